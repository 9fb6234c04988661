"""Finding and loading runbooks: the shipped ones, then the user's folders (config
``[runbooks] paths``). A user runbook with the id of a shipped one replaces it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from console.errors import InvalidInput, NotFound
from console.runbooks.model import Runbook
from console.runbooks.source import Problem, read_yaml
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


@dataclass
class RunbookLibrary:
    """Every loadable runbook by id, and the problems of the files that did not load."""

    runbooks: dict[str, Runbook] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def get(self, runbook_id: str) -> Runbook:
        rb = self.runbooks.get(runbook_id)
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
    lib = RunbookLibrary()
    for folder in folders:
        if not folder.is_dir():
            if folder != shipped_dir():
                lib.problems.append(
                    Problem(str(folder), 0, "(folder)", "runbook folder does not exist")
                )
            continue
        runbooks, problems = validate_paths([folder])
        lib.problems.extend(problems)
        for rb in runbooks:
            lib.runbooks[rb.id] = rb
    return lib


def workspace_library(config) -> RunbookLibrary:
    """The library for a config (its ``runbook_dirs``)."""
    return library(config.runbook_dirs)
