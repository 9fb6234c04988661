"""`rollbook serve`: Alertmanager pushes its alerts in (``POST /api/v1/alertmanager``).

The bearer token comes from the environment variable ``[serve] token_env`` names
(``ROLLBOOK_SERVE_TOKEN`` by default); without one the server refuses to start, unless
``--insecure-no-token`` is given for a loopback address. Runs on uvicorn until SIGINT or
SIGTERM (it finishes the requests in flight, then exits 0).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket

import click

from console.cli.common import env_name, env_option

LOOPBACK_NAMES = ("localhost",)


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 or :: for every interface).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on; 0 picks a free one (printed at start).",
)
@click.option(
    "--insecure-no-token",
    is_flag=True,
    help="Accept webhooks without a bearer token. Loopback addresses only.",
)
@env_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, insecure_no_token: bool) -> None:
    """Receive Alertmanager's webhook: alerts become incidents as with `alerts --open`.

    POST /api/v1/alertmanager takes a webhook_configs receiver's payload (version 4):
    firing alerts open or update incidents (deduplicated by fingerprint), resolved alerts
    are recorded on theirs. GET /healthz answers {"status": "ok"}. One log line per request
    on stderr.
    """
    from console.config import load
    from console.errors import ConfigError, RollbookError

    try:
        import uvicorn

        from console.cli.serve_app import create_app
    except ImportError as exc:
        raise RollbookError(
            f"rollbook serve needs Starlette and uvicorn ({exc.name} is not installed)",
            hint="pip install 'rollbook[serve]'",
        ) from None
    cfg = load()
    token_env = cfg.serve.token_env
    token = os.environ.get(token_env, "").strip() or None
    if token is None:
        if not insecure_no_token:
            raise ConfigError(
                cfg.path,
                "serve.token_env",
                f"${token_env} is not set: rollbook serve needs a bearer token",
                hint=f"export {token_env}=<a long random string> and give Alertmanager the "
                "same one (http_config.authorization.credentials_file); or, on a loopback "
                "address only, --insecure-no-token",
            )
        if not _is_loopback(host):
            raise click.UsageError(
                f"--insecure-no-token is only for a loopback address, not {host!r}: "
                f"set ${token_env}"
            )
        click.echo(
            f"warning: no bearer token (--insecure-no-token): anyone on this host can post "
            f"alerts to http://{_hostport(host, port)}",
            err=True,
        )
    logger = _request_logger()
    from console.workspace import open_workspace

    with open_workspace(env_name(ctx), config=cfg) as ws:
        app = create_app(
            ws,
            token=token,
            max_body_bytes=cfg.serve.max_body_bytes,
            model_label=cfg.serve.model_label,
            logger=logger,
        )
        sock = _bind(host, port)
        click.echo(
            f"rollbook serve: environment {ws.env.name}, listening on "
            f"http://{_hostport(host, sock.getsockname()[1])} (POST /api/v1/alertmanager, "
            f"GET /healthz; token from ${token_env}"
            + (", NOT REQUIRED" if token is None else "")
            + ")",
            err=True,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",  # uvicorn's own start/stop chatter; requests: our log
                access_log=False,
                lifespan="off",
                server_header=False,
                proxy_headers=False,
                timeout_graceful_shutdown=10,
            )
        )
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for
        # the previous handler: ours ends the command normally, so the store is closed.
        previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            server.run(sockets=[sock])
        except _Stopped:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            sock.close()
    click.echo("rollbook serve: stopped", err=True)


class _Stopped(Exception):
    pass


def _stop(signum: int, _frame: object) -> None:
    raise _Stopped(signum)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one, read back by the caller).
    Bound here rather than by uvicorn so the port is known before the first request and a
    port in use is a clear error."""
    from console.errors import RollbookError

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)
    except OSError as exc:
        raise RollbookError(
            f"cannot listen on {_hostport(host, port)}: {exc.strerror or exc}",
            hint="pick another --port (0: any free one) or --host",
        ) from None
    return sock


def _request_logger():
    """``rollbook.serve`` logging one line per request on stderr, with a UTC timestamp."""
    import logging
    import sys
    import time

    logger = logging.getLogger("rollbook.serve")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        fmt = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
        fmt.converter = time.gmtime
        handler.setFormatter(fmt)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
