"""The artifact digest Rollbook compares with a version's ``rollbook.artifact_hash`` tag.

Definition (the same whether the files are on a local disk or behind MLflow's artifact
proxy): list the artifact's files with their paths relative to the artifact root, in POSIX
form (``/`` separators), sorted by code point (which is also UTF-8 byte order); feed SHA-256
with, for each file, ``relpath + "\\0" + sha256hex(content) + "\\n"`` (UTF-8); the digest is
the lowercase hex of that SHA-256 (64 characters, no prefix). A single-file artifact's
relpath is its file name. Directories count only through their files (an empty directory adds
nothing); an artifact without files has no digest worth comparing.

A training pipeline computes it with ``directory_digest(path)`` and registers it as the
version's ``rollbook.artifact_hash`` (``plugins.mlflow.seed.register_directory`` does both).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

CHUNK = 1 << 20  # bytes read at a time: memory stays flat whatever the file's size


def artifact_digest(files: Iterable[tuple[str, str]]) -> str:
    """The digest of ``(relpath, sha256hex of the file's content)`` pairs, in any order.

    Relpaths are POSIX, relative to the artifact root; duplicates are refused (ValueError).
    No files gives the SHA-256 of nothing (``e3b0c442…``)."""
    entries = sorted(files)
    h = hashlib.sha256()
    previous = None
    for relpath, file_hex in entries:
        if relpath == previous:
            raise ValueError(f"file {relpath!r} listed twice")
        previous = relpath
        h.update(f"{relpath}\0{file_hex.lower()}\n".encode())
    return h.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex of a file's content, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def local_files(root: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """The files of a local artifact, ``(relpath, path)`` sorted by relpath. A file is its own
    artifact (relpath = its name). Symlinks to files are read through; symlinked directories
    are not entered (an upload would not follow them either)."""
    root = Path(root)
    if root.is_file():
        return [(root.name, root)]
    if not root.is_dir():
        raise FileNotFoundError(f"no artifact at {root}")
    out = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath, name)
            if path.is_file():
                out.append((path.relative_to(root).as_posix(), path))
    return sorted(out)


def directory_digest(root: str | os.PathLike[str]) -> str:
    """The artifact digest of a local directory (or a single file): what to tag the model
    version with as ``rollbook.artifact_hash`` when registering it."""
    return artifact_digest((rel, file_sha256(path)) for rel, path in local_files(root))
