"""Finding and loading runbooks: the shipped ones, then the user's folders (config
``[runbooks] paths``). A user runbook with the id of a shipped one replaces it."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from console.errors import InvalidInput, NotFound
from console.runbooks.model import Runbook
from console.runbooks.source import Parsed, Problem, read_yaml
from console.runbooks.validate import check_parsed

SUFFIXES = (".yaml", ".yml")


def shipped_dir() -> Path:
    """``runbooks/`` of a source checkout, or the copy a wheel installs in the package."""
    import console

    pkg = Path(console.__file__).resolve().parent
    installed = pkg / "_shipped" / "runbooks"
    return installed if installed.is_dir() else pkg.parent / "runbooks"


def expand(paths: Iterable[Path | str]) -> tuple[list[Path], list[Problem]]:
    """Files named, plus the runbook files inside folders named (sorted)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(f for f in p.iterdir() if f.suffix in SUFFIXES and f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            problems.append(Problem(str(p), 0, "(file)", "no such file or folder"))
    return files, problems


def load_file(path: Path | str) -> tuple[Runbook | None, list[Problem]]:
    path = Path(path)
    runbook, problems = check_parsed(read_yaml(path), str(path))
    return (replace(runbook, path=path) if runbook else None), problems


def validate_paths(paths: Iterable[Path | str]) -> tuple[list[Runbook], list[Problem]]:
    """Validate every runbook file under ``paths``; duplicate ids across files are problems."""
    files, problems = expand(paths)
    runbooks: list[Runbook] = []
    first: dict[str, Path] = {}
    for f in files:
        rb, probs = load_file(f)
        problems.extend(probs)
        if rb is None:
            continue
        if rb.id in first:
            problems.append(
                Problem(str(f), 1, "id", f"duplicate runbook id {rb.id!r} (also in {first[rb.id]})")
            )
            continue
        first[rb.id] = f
        runbooks.append(rb)
    return runbooks, problems


def problems_error(problems: list[Problem]) -> InvalidInput:
    shown = "\n".join(str(p) for p in problems[:20])
    more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
    return InvalidInput(
        f"invalid runbook:\n{shown}{more}",
        hint="see every problem with: rollbook runbook validate PATH",
    )


class RunbookLibrary:
    """Every loadable runbook by id, and the problems of the files that did not load.

    Loading checks each file's structure (keys, types, steps and their flow); the Jinja
    syntax of a runbook's texts and conditions — most of what a check costs — is checked when
    that runbook is first asked for (``get``, ``checked``), and for every runbook when the
    library is read whole (iteration, ``runbooks``, ``problems``). Either way a runbook with
    any problem is never handed out and its problems are listed, as if all were checked at
    once: opening an incident checks the one runbook it selects, not all of them."""

    def __init__(self) -> None:
        self._valid: dict[str, Runbook] = {}
        self._unchecked: dict[str, tuple[Runbook, Parsed]] = {}  # structure checked only
        self._problems: list[Problem] = []
        self._order: dict[str, int] = {}  # file -> load order: problems list in that order
        self._lock = threading.Lock()

    # ---- building (the loader) ---------------------------------------------------------
    def _put(self, rb: Runbook, parsed: Parsed | None) -> None:
        """Hold ``rb`` (replacing an earlier one of its id); ``parsed`` when its Jinja is
        still to be checked."""
        self._valid.pop(rb.id, None)
        self._unchecked.pop(rb.id, None)
        if parsed is None:
            self._valid[rb.id] = rb
        else:
            self._unchecked[rb.id] = (rb, parsed)

    def _holds(self, runbook_id: str) -> bool:
        return runbook_id in self._valid or runbook_id in self._unchecked

    # ---- reading -----------------------------------------------------------------------
    def checked(self, runbook_id: str) -> Runbook | None:
        """The runbook once it has passed every check; None when there is no such runbook
        or it has a problem (then listed in ``problems``)."""
        with self._lock:
            pending = self._unchecked.pop(runbook_id, None)
            if pending is not None:
                rb, parsed = pending
                full, problems = check_parsed(parsed, str(rb.path))
                if full is None:
                    self._problems.extend(problems)
                else:
                    self._valid[runbook_id] = replace(full, path=rb.path)
            return self._valid.get(runbook_id)

    def candidates(self) -> list[Runbook]:
        """Runbooks by id whose structure is valid (their Jinja perhaps not checked yet): what
        selection scores; pass the chosen one through ``checked``."""
        with self._lock:
            found = {**self._valid, **{k: rb for k, (rb, _) in self._unchecked.items()}}
        return [found[k] for k in sorted(found)]

    def _check_all(self) -> None:
        for runbook_id in list(self._unchecked):
            self.checked(runbook_id)

    @property
    def runbooks(self) -> dict[str, Runbook]:
        self._check_all()
        return dict(self._valid)

    @property
    def problems(self) -> list[Problem]:
        self._check_all()
        return sorted(self._problems, key=lambda p: self._order.get(p.file, 0))

    def get(self, runbook_id: str) -> Runbook:
        rb = self.checked(runbook_id)
        if rb is None:
            broken = [p for p in self.problems if Path(p.file).stem == runbook_id]
            if broken:
                raise problems_error(broken)
            raise NotFound(
                f"no runbook {runbook_id!r}", hint="list them with: rollbook runbook list"
            )
        return rb

    def __iter__(self):
        return iter(sorted(self.runbooks.values(), key=lambda r: r.id))


_CACHE: dict[tuple, RunbookLibrary] = {}


def _signature(folders: list[Path]) -> tuple:
    """What the library depends on: each folder's runbook files with size and mtime."""
    sig: list[tuple] = []
    for folder in folders:
        if not folder.is_dir():
            sig.append((str(folder), None))
            continue
        for f in sorted(folder.iterdir()):
            if f.suffix in SUFFIXES:
                st = f.stat()
                sig.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(sig)


def library(dirs: Iterable[Path] = (), *, include_shipped: bool = True) -> RunbookLibrary:
    """Shipped runbooks, then each folder in ``dirs``; later folders replace earlier ids.
    Cached until a runbook file changes (every command and engine call asks for it)."""
    folders = ([shipped_dir()] if include_shipped else []) + [Path(d) for d in dirs]
    key = _signature(folders)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _load(folders)
    return _CACHE[key]


def _load(folders: list[Path]) -> RunbookLibrary:
    """``validate_paths`` over each folder, later folders replacing earlier ids — with the
    Jinja of a runbook left for its first use, except where two files claim one id (which
    one counts, or whether it is a duplicate, depends on both being valid)."""
    lib = RunbookLibrary()
    claimed: set[str] = set()
    for folder in folders:
        lib._order[str(folder)] = len(lib._order)
        if not folder.is_dir():
            if folder != shipped_dir():
                lib._problems.append(
                    Problem(str(folder), 0, "(folder)", "runbook folder does not exist")
                )
            continue
        files, problems = expand([folder])
        lib._problems.extend(problems)
        first: dict[str, Path] = {}
        for f in files:
            lib._order[str(f)] = len(lib._order)
            parsed = read_yaml(f)
            rb, probs = check_parsed(parsed, str(f), templates=False)
            defer = rb is None or rb.id not in claimed  # no other file claims its id
            if not defer and rb is not None:
                lib.checked(rb.id)  # the file holding the id now: valid or dropped
                rb, probs = check_parsed(parsed, str(f))
            if rb is None:
                lib._problems.extend(probs)
                continue
            claimed.add(rb.id)
            if rb.id in first and lib._holds(rb.id):
                lib._problems.append(
                    Problem(
                        str(f), 1, "id", f"duplicate runbook id {rb.id!r} (also in {first[rb.id]})"
                    )
                )
                continue
            first[rb.id] = f
            lib._put(replace(rb, path=f), parsed if defer else None)
    return lib


def workspace_library(config) -> RunbookLibrary:
    """The library for a config (its ``runbook_dirs``)."""
    return library(config.runbook_dirs)
