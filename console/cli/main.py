"""Entry point of the ``rollbook`` command.

Commands are registered by import path and short help, and imported only when invoked, so
``rollbook --help`` stays fast and does not pull in Textual, pandas or scipy.
"""

from __future__ import annotations

import importlib
import sys

import click

from console import __version__
from console.errors import RollbookError

# name -> ("module:attribute", short help shown in `rollbook --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("console.cli.world:demo", "Seed the embedded world, inject a fault, open it."),
    "status": ("console.cli.world:status", "Production version, traffic, health and key signals."),
    "plugins": ("console.cli.world:plugins_cmd", "Installed plugins and who uses them."),
    "incidents": ("console.cli.incidents:incidents", "List incidents."),
    "incident": ("console.cli.incidents:incident", "Show or open an incident."),
    "note": ("console.cli.incidents:note", "Add a note to an incident's timeline."),
    "update": ("console.cli.update:update", "Post a stakeholder update to an incident's channels."),
    "alerts": ("console.cli.incidents:alerts", "Active alerts; --open turns them into incidents."),
    "runbook": ("console.cli.runbooks:runbook", "Validate, list and show runbooks."),
    "run": ("console.cli.runbooks:run", "Advance an incident's runbook by one step."),
    "drill": ("console.cli.runbooks:drill", "Inject a fault, run its runbook, score the drill."),
    "rollback": ("console.cli.actions:rollback", "Roll a model back: traffic, then registry."),
    "killswitch": ("console.cli.actions:killswitch", "Route a model to its fallback ladder."),
    "restore": ("console.cli.actions:restore", "Undo a model's last kill switch."),
    "traffic": ("console.cli.actions:traffic", "Set a model's traffic weights."),
    "rollout": ("console.cli.actions:rollout", "Progressive rollout with canary judgement."),
    "pointer": ("console.cli.actions:pointer", "Move only the registry's production pointer."),
    "stage": ("console.cli.actions:stage", "Transition a version's registry stage."),
    "audit": ("console.cli.actions:audit", "Verify the audit log; list unfinished actions."),
    "store": ("console.cli.store:store", "The incident store; migrate SQLite to PostgreSQL."),
    "drift": ("console.cli.diagnostics:drift", "Per-feature drift report between two data files."),
    "schema": ("console.cli.diagnostics:schema", "Schema diff with rename suggestions."),
    "profile": ("console.cli.profile:profile", "Build and show versions' reference profiles."),
    "canary": ("console.cli.diagnostics:canary", "Judge a canary (two-proportion z-test); `size`."),
    "shadow": ("console.cli.diagnostics:shadow", "Compare champion and challenger scores."),
    "silence": ("console.cli.silence:silence", "Create, list and expire Alertmanager silences."),
    "serve": ("console.cli.serve:serve", "Alertmanager's webhook: alerts become incidents."),
    "postmortem": ("console.cli.reports:postmortem", "Blameless post-mortem from the record."),
    "report": ("console.cli.reports:report", "Cost / ROI reports and the drill report."),
}


class LazyGroup(click.Group):
    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            target, _ = self.lazy[name]
            module_name, attr = target.split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (RollbookError, click.ClickException) as exc:
            # The command's context is gone by the time main() sees the error: note here
            # whether it asked for --json (see common.json_option).
            if (ctx.obj or {}).get("as_json"):
                exc.rollbook_json = True  # type: ignore[union-attr]
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(80)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


EPILOG = """\b
Exit codes: 0 ok · 1 check failed or action refused · 2 usage error ·
3 config error · 4 not found · 5 backend unreachable · 6 partially applied ·
7 invalid input data.
Config: $ROLLBOOK_HOME/config.toml (default: your user config dir)."""


@click.group(cls=LazyGroup, lazy=COMMANDS, invoke_without_command=True, epilog=EPILOG)
@click.option(
    "--env",
    "env_name",
    envvar="ROLLBOOK_ENV",
    default=None,
    metavar="NAME",
    help="Environment from config.toml (default: the configured default, else demo).",
)
@click.version_option(__version__, prog_name="rollbook")
@click.pass_context
def cli(ctx: click.Context, env_name: str | None) -> None:
    """Rollbook — the on-call console for ML models in production.

    Run without a command to open the console on the default environment.
    """
    ctx.ensure_object(dict)
    ctx.obj["env_name"] = env_name
    if ctx.invoked_subcommand is None:
        from console.cli.world import open_console

        ctx.invoke(open_console)


def _json_in_argv(argv: list[str]) -> bool:
    """Whether the command line asks for ``--json``, read from the tokens themselves: an
    error found while parsing (an unknown command or option, a bad value) comes before click
    has read the flag, or from a command that has none. Tokens after ``--`` are arguments."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _json_error(exc: BaseException, exit_code: int, as_json: bool) -> None:
    """With ``--json``, an error still answers JSON on stdout (the message stays on stderr)."""
    if as_json or getattr(exc, "rollbook_json", False):
        from console.cli.common import error_json, print_json

        print_json(error_json(exc, exit_code))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    as_json = _json_in_argv(args)
    try:
        # With standalone_mode=False click *returns* the code of ctx.exit(n) instead of exiting.
        rc = cli.main(args=args, prog_name="rollbook", standalone_mode=False)
    except click.exceptions.Abort as exc:
        click.echo("Aborted.", err=True)
        _json_error(exc, 1, as_json)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        _json_error(exc, exc.exit_code, as_json)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except RollbookError as exc:
        click.echo(f"error: {exc}", err=True)
        _json_error(exc, exc.exit_code, as_json)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:  # outside click's own handling (which aborts, exit 1)
        _json_error(exc, 130, as_json)
        sys.exit(130)
    except Exception as exc:
        # A bug: the traceback still goes to stderr, and a script reading --json still gets
        # an answer it can parse.
        if as_json:
            from console.cli.common import print_json

            body = {"message": f"internal error: {exc}", "hint": "please report this bug"}
            print_json({"error": {**body, "exit_code": 1, "type": type(exc).__name__}})
        raise
    if isinstance(rc, int) and rc != 0:
        sys.exit(rc)
