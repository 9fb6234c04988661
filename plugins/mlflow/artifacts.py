"""A model version's artifact digest, computed through MLflow's artifact proxy
(``/api/2.0/mlflow-artifacts/artifacts``, served when the tracking server runs with
``--artifacts-destination`` / ``--serve-artifacts``). The digest is defined in
``plugins.mlflow.digest``.

Sources resolved to a proxy path:

- ``mlflow-artifacts:/<path>`` and ``mlflow-artifacts://host:port/<path>`` (the path, as the
  server itself reads it);
- ``http(s)://<this server>/api/2.0/mlflow-artifacts/artifacts/<path>``;
- ``runs:/<run_id>/<sub>``: the run's ``artifact_uri`` (runs/get) joined with ``<sub>``;
- ``models:/m-<id>`` (MLflow 3 logged models): the logged model's ``artifact_uri``;
- ``models:/<name>/<version>``: that version's own source, followed a few levels at most.

Anything else (``s3://``, ``gs://``, a local path on the server…) the proxy does not serve:
``Unavailable`` says so. Files are listed first, so an artifact above the size limit is never
downloaded; then each file is streamed and hashed chunk by chunk (memory stays flat). The
whole computation stops at a deadline.
"""

from __future__ import annotations

import hashlib
import posixpath
import time
from urllib.parse import quote, urlsplit

from console.errors import RollbookError
from plugins.http_common.api import ApiError, JsonApi
from plugins.mlflow.digest import artifact_digest

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
TRACKING = "/api/2.0/mlflow"
MAX_SOURCE_HOPS = 3  # models:/name/version → its source → …


class Unavailable(Exception):
    """The digest cannot be computed; the message says why, in words for the preflight."""


def size_text(n: float) -> str:
    """Bytes in decimal units: ``2.1 GB``, ``512 MB``, ``740 kB``, ``12 B``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            v = n / scale
            return f"{v:.1f} {unit}" if v < 10 else f"{v:.0f} {unit}"
    return f"{n:.0f} B"


def proxied_path(uri: str, base_url: str) -> str | None:
    """The proxy path of an ``mlflow-artifacts:`` URI (any host: the path is what the server
    reads) or of an HTTP URL under ``base_url``'s proxy route; None for anything else."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "mlflow-artifacts":
        return _safe(parts.path.strip("/"), uri)
    anchor = base_url.rstrip("/") + PROXY + "/"
    if scheme in ("http", "https") and uri.startswith(anchor):
        return _safe(uri[len(anchor) :].split("?")[0].strip("/"), uri)
    return None


class ArtifactProxy:
    """Digests of artifacts behind one MLflow server's proxy.

    ``max_bytes``: an artifact larger than this is not downloaded. ``budget_s``: the whole
    digest (listing, resolving and downloading) stops after this many seconds."""

    def __init__(self, api: JsonApi, *, max_bytes: int, budget_s: float) -> None:
        self.api = api
        self.max_bytes = max_bytes
        self.budget_s = budget_s
        self._deadline = 0.0

    def digest(self, source: str) -> str:
        """The digest of the artifact a model version's ``source`` names. Raises
        ``Unavailable`` (why) when it cannot be had; never downloads above ``max_bytes``."""
        self._deadline = time.monotonic() + self.budget_s
        try:
            root = self.proxy_path(source)
            files = self._files(root)
            if files is None:  # nothing listed: a single file, or nothing at all
                rel = posixpath.basename(root)
                return artifact_digest([(rel, self._file_sha256(root, 0, None)[0])])
            total = sum(size for _, _, size in files)
            if total > self.max_bytes:
                raise self._too_large(total, "not downloaded")
            hashed, read = [], 0
            for rel, path, _size in files:
                file_hex, n = self._file_sha256(path, read, total)
                hashed.append((rel, file_hex))
                read += n
            return artifact_digest(hashed)
        except RollbookError as exc:  # unreachable, timed out, or an error status
            raise Unavailable(f"reading the artifact from MLflow failed: {exc.message}") from exc

    # ---- resolving a source ---------------------------------------------------------------
    def proxy_path(self, source: str, hops: int = 0) -> str:
        """The path under the proxy's root that ``source`` names."""
        if (path := proxied_path(source, self.api.base_url)) is not None:
            return path
        parts = urlsplit(source)
        scheme = parts.scheme.lower()
        if scheme == "runs" and not parts.netloc:
            run, _, sub = parts.path.strip("/").partition("/")
            if run:
                body = self.api.get(f"{TRACKING}/runs/get", {"run_id": run})
                uri = ((body.get("run") or {}).get("info") or {}).get("artifact_uri") or ""
                return self._join(self._root(uri, f"run {run}"), sub, source)
        elif scheme == "models" and not parts.netloc:
            ref = parts.path.strip("/")
            if ref.startswith("m-") and "/" not in ref:
                body = self.api.get(f"{TRACKING}/logged-models/{quote(ref, safe='')}")
                uri = ((body.get("model") or {}).get("info") or {}).get("artifact_uri") or ""
                return self._root(uri, f"logged model {ref}")
            name, _, version = ref.rpartition("/")
            if name and version.isdigit() and hops < MAX_SOURCE_HOPS:
                body = self.api.get(
                    f"{TRACKING}/model-versions/get", {"name": name, "version": version}
                )
                mv = body.get("model_version") or {}
                return self.proxy_path(mv.get("source") or "", hops + 1)
        raise Unavailable(f"source {source or '(none)'} is not served by MLflow's artifact proxy")

    def _root(self, uri: str, owner: str) -> str:
        path = proxied_path(uri, self.api.base_url)
        if path is None:
            raise Unavailable(
                f"{owner} keeps its artifacts at {uri or '(nowhere)'}, which MLflow's "
                "artifact proxy does not serve"
            )
        return path

    @staticmethod
    def _join(root: str, sub: str, source: str) -> str:
        return _safe(posixpath.join(root, sub.strip("/")) if sub.strip("/") else root, source)

    # ---- listing and reading --------------------------------------------------------------
    def _files(self, root: str) -> list[tuple[str, str, int]] | None:
        """``(relpath, proxy path, size in bytes)`` of every file under ``root``, sorted; None
        when ``root`` lists nothing (the proxy lists a file path, an empty directory and a
        missing path alike as empty)."""
        out: list[tuple[str, str, int]] = []
        pending = [""]
        while pending:
            rel_dir = pending.pop()
            self._check_deadline("listing the artifact")
            path = posixpath.join(root, rel_dir) if rel_dir else root
            body = self.api.get(PROXY, {"path": path})
            for f in body.get("files") or []:
                name = posixpath.basename(str(f.get("path") or ""))
                if not name:
                    continue
                rel = posixpath.join(rel_dir, name) if rel_dir else name
                if f.get("is_dir"):
                    pending.append(rel)
                else:
                    out.append((rel, posixpath.join(root, rel), int(f.get("file_size") or 0)))
        return sorted(out) if out else None

    def _file_sha256(self, path: str, read_before: int, total: int | None) -> tuple[str, int]:
        """SHA-256 hex and length of one file, streamed. ``total`` is the listed size of the
        whole artifact (None: unknown, a single file whose size the response tells)."""
        h, n = hashlib.sha256(), 0
        try:
            with self.api.stream(f"{PROXY}/{quote(path, safe='/')}") as resp:
                length = int(resp.headers.get("content-length") or 0)
                if total is None and length > self.max_bytes:
                    raise self._too_large(length, "not downloaded")
                for chunk in resp.iter_bytes(1 << 20):
                    h.update(chunk)
                    n += len(chunk)
                    if read_before + n > self.max_bytes:  # the listing undersold it
                        raise Unavailable(
                            f"artifact above the {size_text(self.max_bytes)} check limit "
                            "(artifact_check_max_mb); download stopped"
                        )
                    of = f" of {size_text(total)}" if total is not None else ""
                    self._check_deadline(f"downloading ({size_text(read_before + n)}{of} read)")
        except ApiError as exc:
            if total is None and exc.status in (400, 404):
                # What the proxy answers for a directory (400) or a missing path (404).
                raise Unavailable(
                    f"no artifact files at {path} in MLflow's artifact proxy"
                ) from None
            raise
        return h.hexdigest(), n

    def _too_large(self, size: int, what: str) -> Unavailable:
        return Unavailable(
            f"artifact {size_text(size)} above the {size_text(self.max_bytes)} check limit "
            f"(artifact_check_max_mb); {what}"
        )

    def _check_deadline(self, doing: str) -> None:
        if time.monotonic() > self._deadline:
            raise Unavailable(
                f"artifact check stopped after {self.budget_s:g}s while {doing} "
                "(artifact_check_timeout)"
            )


def _safe(path: str, source: str) -> str:
    if not path or any(seg in ("..", ".") for seg in path.split("/")):
        raise Unavailable(f"source {source} names no usable artifact path")
    return path
