"""The artifact digest (``plugins.mlflow.digest``) and the ``rollbook.artifact_hash`` tag,
without a server. ``test_real_artifact_check`` checks digests through the real MLflow."""

from __future__ import annotations

import hashlib

import pytest

from plugins.mlflow import tags as T
from plugins.mlflow.digest import artifact_digest, directory_digest, file_sha256, local_files


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(root, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


FILES = {"MLmodel": b"flavors: {}\n", "data/model.pkl": b"\x00weights\xff", "data/b/c.txt": b"c"}


# ---- the definition ---------------------------------------------------------------------
def test_digest_is_the_documented_formula(tmp_path):
    write(tmp_path, FILES)
    feed = "".join(f"{rel}\0{sha(FILES[rel])}\n" for rel in sorted(FILES))
    assert directory_digest(tmp_path) == sha(feed.encode())
    assert len(directory_digest(tmp_path)) == 64


def test_digest_does_not_depend_on_listing_order():
    pairs = [(rel, sha(data)) for rel, data in FILES.items()]
    assert (
        artifact_digest(pairs) == artifact_digest(reversed(pairs)) == artifact_digest(sorted(pairs))
    )
    # upper-case file hashes are the same hashes
    assert artifact_digest((r, h.upper()) for r, h in pairs) == artifact_digest(pairs)


def test_digest_changes_with_any_content_byte(tmp_path):
    write(tmp_path, FILES)
    before = directory_digest(tmp_path)
    (tmp_path / "data" / "model.pkl").write_bytes(b"\x00weights\xfe")
    assert directory_digest(tmp_path) != before


def test_digest_changes_with_a_path_even_for_the_same_content(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, {"data/model.pkl": b"w"})
    write(b, {"data/model2.pkl": b"w"})
    assert directory_digest(a) != directory_digest(b)
    # moving a file to another directory changes it too
    c = tmp_path / "c"
    write(c, {"model.pkl": b"w"})
    assert directory_digest(c) != directory_digest(a)
    # adding an (empty) file changes it; an empty directory does not
    before = directory_digest(a)
    (a / "empty-dir").mkdir()
    assert directory_digest(a) == before
    (a / "empty-file").write_bytes(b"")
    assert directory_digest(a) != before


def test_paths_are_posix_sorted_and_a_single_file_is_named_by_itself(tmp_path):
    write(tmp_path / "m", {"z.bin": b"z", "a/b/c.bin": b"c", "B.txt": b"B"})
    assert [rel for rel, _ in local_files(tmp_path / "m")] == ["B.txt", "a/b/c.bin", "z.bin"]
    single = tmp_path / "m" / "z.bin"
    assert local_files(single) == [("z.bin", single)]
    assert directory_digest(single) == sha(f"z.bin\0{sha(b'z')}\n".encode())
    assert file_sha256(single) == sha(b"z")
    with pytest.raises(FileNotFoundError):
        directory_digest(tmp_path / "missing")


def test_duplicate_paths_are_refused():
    with pytest.raises(ValueError, match="twice"):
        artifact_digest([("a", sha(b"1")), ("a", sha(b"2"))])


def test_the_tag_accepts_a_sha256_prefix():
    hexd = "ab" * 32
    assert T.lineage_from_tags({T.ARTIFACT_HASH: f"sha256:{hexd.upper()}"}).artifact_hash == hexd
    assert T.lineage_from_tags({T.ARTIFACT_HASH: hexd}).artifact_hash == hexd
    # anything that is not a SHA-256 digest is compared as written
    assert T.lineage_from_tags({T.ARTIFACT_HASH: "sha256:a1"}).artifact_hash == "sha256:a1"
