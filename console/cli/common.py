"""Options and output helpers shared by every command.

Every read command takes ``--json``; every command takes ``--env NAME`` (also accepted before
the command name). Human output goes through rich only when printed, so importing this module
stays cheap.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click


def _set_env(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(dict)
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj["env_name"] = value
    return value


def env_option(f: Callable) -> Callable:
    return click.option(
        "--env",
        "env_name_local",
        default=None,
        metavar="NAME",
        expose_value=False,
        callback=_set_env,
        is_eager=True,
        help="Environment from config.toml (default: the configured default, else demo).",
    )(f)


def _note_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    # Remembered on the root context so an error that ends the command can still be
    # printed as JSON (see ``console.cli.main``).
    if value:
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj["as_json"] = True
    return value


def json_option(f: Callable) -> Callable:
    return click.option(
        "--json", "as_json", is_flag=True, callback=_note_json, help="Print machine-readable JSON."
    )(f)


def error_json(exc: BaseException, exit_code: int) -> dict[str, Any]:
    """What ``--json`` prints on stdout when an error ends the command: ``{"error":
    {"message", "hint", "exit_code", "type"}}``. A usage error's hint names the help of the
    command it concerns; an error without a message (``Abort``) says ``"Aborted."``."""
    hint = getattr(exc, "hint", None)
    if isinstance(exc, click.ClickException):
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f"see: {exc.ctx.command_path} --help"
    else:
        message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, click.exceptions.Abort):
        message = "Aborted."
    return {
        "error": {
            "message": message or type(exc).__name__,
            "hint": hint,
            "exit_code": exit_code,
            "type": type(exc).__name__,
        }
    }


def stdin_is_tty() -> bool:
    """Whether a person can answer a question on stdin (tests replace this)."""
    return sys.stdin is not None and sys.stdin.isatty()


def confirm(question: str) -> None:
    """Ask ``question`` on stderr (default no) and return only on a yes.

    Raises ``ActionRefused`` (exit 1) without asking when stdin is not a terminal — a script,
    a pipe, cron: nobody can answer, and reading a stray line of input as consent would be
    worse — and when the answer is no. Ctrl+C or end of input at the prompt ends the command
    as click's ``Abort`` (exit 1)."""
    from console.errors import ActionRefused

    if not stdin_is_tty():
        raise ActionRefused(
            "stdin is not a terminal: nobody can confirm",
            hint="pass --yes to confirm from a script",
        )
    if not click.confirm(question, default=False, err=True):
        raise ActionRefused("not confirmed: nothing was changed")


class FiniteRange(click.FloatRange):
    """A float option in a range that is also a real number. click's FloatRange lets NaN
    through (no comparison with it is true) and, without a bound, ±inf — which then reach a
    ``time.sleep`` or a thread's ``join`` as a traceback. Out of range: a usage error (2)."""

    name = "finite float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


def env_name(ctx: click.Context) -> str | None:
    root = ctx.find_root()
    return (root.obj or {}).get("env_name")


def workspace(ctx: click.Context, env: str | None = None):
    """The workspace of the command's environment (``--env``, else the configured default)."""
    from console.workspace import open_workspace

    return open_workspace(env or env_name(ctx))


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, numpy scalars, datetimes, NaN/inf into JSON-safe values.

    NaN and ±inf become ``null`` (JSON has no such numbers)."""
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return to_jsonable(value.to_dict())
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if hasattr(value, "item"):  # numpy scalar
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return to_jsonable(asdict(value))
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(data), indent=2, sort_keys=False) + "\n")


def console_out():
    """A rich Console for human output (imported lazily)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def require_model(ws, model: str | None) -> None:
    """A ``--model`` filter naming no model of the registry is an error (exit 4), not an
    empty answer."""
    from console.errors import NotFound

    if model is None:
        return
    names = {m.name for m in ws.backends.registry.models()}
    if model not in names:
        raise NotFound(f"no model {model!r}", hint=f"models: {', '.join(sorted(names))}")
