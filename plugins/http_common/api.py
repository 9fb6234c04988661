"""A JSON-over-HTTP client for the real backend plugins (MLflow, Prometheus, Alertmanager).

It turns transport failures into ``BackendError`` with a hint naming the server and what to
check, so every plugin reports "unreachable", "timed out" and "answered an error" alike.

Auth comes from environment variables whose *names* are in the plugin's options
(``token_env`` → ``Authorization: Bearer …``; ``username_env`` + ``password_env`` → basic
auth); secrets never sit in the config file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx

from console.backends.plugin import PluginContext
from console.errors import BackendError, ConfigError

DEFAULT_TIMEOUT_S = 5.0


class ApiError(BackendError):
    """The server answered, with an HTTP error status. ``code`` is the server's own error
    code when it sends one (MLflow's ``error_code``, Prometheus' ``errorType``)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str = "",
        detail: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.detail = detail


def auth_from_options(
    ctx: PluginContext, options: Mapping[str, Any], key: str
) -> httpx.Auth | dict[str, str] | None:
    """Bearer token or basic auth from the environment variables named in ``options``.

    Returns headers (bearer), an ``httpx.BasicAuth``, or None when no auth is configured."""
    token = ctx.secret(options, "token")
    if token:
        return {"Authorization": f"Bearer {token}"}
    if options.get("username_env") or options.get("password_env"):
        user = ctx.secret(options, "username", required=True)
        password = ctx.secret(options, "password", required=True)
        return httpx.BasicAuth(user or "", password or "")
    if options.get("token_env"):
        raise ConfigError(
            ctx.config_path,
            f"env.{ctx.env_name}.{key}.token_env",
            f"environment variable {options['token_env']} is not set",
            hint=f"export {options['token_env']}=…",
        )
    return None


def timeout_option(
    ctx: PluginContext, options: Mapping[str, Any], key: str, default: float = DEFAULT_TIMEOUT_S
) -> float:
    value = options.get("timeout", default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(
            ctx.config_path,
            f"env.{ctx.env_name}.{key}.timeout",
            f"expected a positive number of seconds, got {value!r}",
        )
    return float(value)


def url_option(
    ctx: PluginContext,
    options: Mapping[str, Any],
    key: str,
    name: str = "url",
    *,
    required: bool = True,
) -> str | None:
    value = options.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError(
            ctx.config_path,
            f"env.{ctx.env_name}.{key}.{name}",
            f"expected an http(s) URL, got {value!r}",
            hint=f'e.g. {name} = "http://127.0.0.1:9090"',
        )
    return value.rstrip("/")


class JsonApi:
    """One server's JSON API: ``get``/``post``/``delete`` return the decoded body.

    ``transport`` lets unit tests hand in an ``httpx.MockTransport``."""

    def __init__(
        self,
        server: str,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        auth: httpx.Auth | dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        headers = {"Accept": "application/json", "User-Agent": "rollbook"}
        basic = None
        if isinstance(auth, dict):
            headers.update(auth)
        else:
            basic = auth
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers=headers,
            auth=basic,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=body, params=params)

    def delete(self, path: str, body: Any = None) -> Any:
        return self.request("DELETE", path, json=body)

    def put_bytes(self, path: str, content: bytes | Iterable[bytes]) -> Any:
        """PUT a raw body (bytes, or an iterable of chunks so a large file is not read whole)."""
        return self.request("PUT", path, content=content)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | Iterable[bytes] | None = None,
    ) -> Any:
        where = f"{self.server} at {self.base_url}"
        with self._transport_errors(method, path):
            # httpx's delete() takes no body; build the request by hand (MLflow's DELETE
            # alias endpoint reads its parameters from a JSON body).
            resp = self._client.request(
                method, path, params=params, json=json, data=data, content=content
            )
        if resp.status_code >= 400:
            raise self._error(method, path, resp)
        if not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError as exc:
            raise BackendError(
                f"{where} answered {method} {path} with something that is "
                f"not JSON: {resp.text[:200]!r}",
                hint="is the URL pointing at the right server?",
            ) from exc

    @contextlib.contextmanager
    def stream(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[httpx.Response]:
        """GET ``path`` without reading the body: iterate ``response.iter_bytes()`` inside the
        ``with``. Errors (also while reading) are raised as by ``request``; the timeout
        applies to each read, not to the whole body."""
        with (
            self._transport_errors("GET", path),
            self._client.stream("GET", path, params=params) as resp,
        ):
            if resp.status_code >= 400:
                resp.read()
                raise self._error("GET", path, resp)
            yield resp

    @contextlib.contextmanager
    def _transport_errors(self, method: str, path: str) -> Iterator[None]:
        where = f"{self.server} at {self.base_url}"
        try:
            yield
        except httpx.TimeoutException as exc:
            raise BackendError(
                f"{where} did not answer {method} {path} within {self.timeout:g}s",
                hint="the server is slow or stuck; a write may still apply: read the state "
                "back before retrying",
            ) from exc
        except httpx.TransportError as exc:
            raise BackendError(
                f"cannot reach {where}: {type(exc).__name__}: {exc}",
                hint=f"is {self.server} running and the URL right?",
            ) from exc

    def _error(self, method: str, path: str, resp: httpx.Response) -> ApiError:
        code, detail = "", resp.text[:500]
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            code = str(body.get("error_code") or body.get("errorType") or "")
            detail = str(body.get("message") or body.get("error") or detail)
        hint = None
        if resp.status_code in (401, 403):
            hint = (
                f"{self.server} refused the credentials: check token_env / username_env "
                "and password_env"
            )
        return ApiError(
            f"{self.server} answered {method} {path} with HTTP {resp.status_code}"
            + (f" {code}" if code else "")
            + f": {detail}",
            status=resp.status_code,
            code=code,
            detail=detail,
            hint=hint,
        )
