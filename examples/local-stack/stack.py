"""A real local stack for Rollbook: MLflow, Prometheus, Alertmanager, HAProxy and tiny model
servers on 127.0.0.1, seeded, with a Rollbook config pointing at them.

    python examples/local-stack/stack.py up      # start, seed, write config, wait for Ctrl-C
    python examples/local-stack/stack.py down    # stop a stack started with --detach

The integration tests and ``benchmarks/rollback_real.py`` start their servers with the same
launchers (``MlflowServer``, ``PrometheusServer``, …), so what the tests prove is what a user
runs. Every process is started in its own session and stopped by its PID (its process group),
never by name.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitoring import AlertmanagerServer, PrometheusServer, backfill, history_openmetrics  # noqa: E402
from postgres import PostgresServer, postgres_bin  # noqa: E402
from predlog import FEATURES  # noqa: E402
from processes import PROGRAMS, free_port  # noqa: E402
from servers import HaproxyServer, MlflowServer, ModelServer  # noqa: E402

HERE = Path(__file__).resolve().parent


# ---- the whole stack ----------------------------------------------------------------------
@dataclass
class Stack:
    workdir: Path
    model: str = "churn"
    alias: str = "champion"
    servers: dict[str, ModelServer] = field(default_factory=dict)
    mlflow: MlflowServer | None = None
    prometheus: PrometheusServer | None = None
    alertmanager: AlertmanagerServer | None = None
    haproxy: HaproxyServer | None = None
    postgres: PostgresServer | None = None

    @property
    def log_dir(self) -> Path:
        """The prediction log's Parquet files (hive-partitioned by dt and hour)."""
        return self.workdir / "predictions" / self.model

    def launch(self, history: bool = True) -> None:
        """Start everything at once (MLflow is the slow one), then wait for each."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if postgres_bin() is not None:  # the prediction log's second home (optional)
            self.postgres = PostgresServer(self.workdir / "postgres").launch()
        for version, score in (("1", 0.14), ("2", 0.15), ("rules", 0.12)):
            self.servers[version] = ModelServer(
                self.model, version, free_port(), self.workdir, score=score
            ).launch()
        self.mlflow = MlflowServer(self.workdir / "mlflow").launch()
        self.alertmanager = AlertmanagerServer(self.workdir / "alertmanager").launch()
        self.prometheus = PrometheusServer(
            self.workdir / "prometheus",
            [f"127.0.0.1:{s.port}" for s in self.servers.values()],
            alertmanager=self.alertmanager.address,
        )
        if history:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            switch = now - timedelta(hours=3)
            self.prometheus.workdir.mkdir(parents=True, exist_ok=True)
            backfill(
                self.prometheus.data_dir,
                history_openmetrics(
                    self.model,
                    {
                        "1": (now - timedelta(hours=6), switch),
                        "2": (switch + timedelta(minutes=1), now - timedelta(minutes=2)),
                    },
                    end=now,
                ),
                self.prometheus.workdir,
            )
        self.prometheus.launch()
        self.haproxy = HaproxyServer(
            self.workdir / "haproxy",
            {self.model: {f"v{v}" if v.isdigit() else v: s.port for v, s in self.servers.items()}},
            {self.model: {"v2": 100}},
        ).launch()
        for s in self.servers.values():
            s.wait()
        self.haproxy.wait()
        self.alertmanager.wait()
        self.prometheus.wait()
        self.mlflow.wait()
        if self.postgres is not None:
            self.postgres.wait()

    def seed(self) -> None:
        """MLflow: the model with versions 1 and 2 and their lineage; alias → 2."""
        sys.path.insert(0, str(HERE.parent.parent))
        from console.backends.types import Lineage
        from plugins.http_common.api import JsonApi
        from plugins.mlflow import seed

        api = JsonApi("MLflow", self.mlflow.url)
        seed.ensure_model(
            api,
            self.model,
            description="Nightly churn scores for 2.1M customers",
            tags={
                "rollbook.owner": "retention-ds",
                "rollbook.serving_pattern": "realtime",
                "rollbook.features": "tenure_months,avg_order_value_90d",
            },
        )
        base = dict(
            feature_version="fs-2026.10", environment={"python": "3.11.7", "scikit-learn": "1.5.2"}
        )
        # Each version's artifact is a small directory uploaded through MLflow's artifact
        # proxy; register_directory tags it with its digest, so rollback preflight checks it.
        v1 = seed.register_directory(
            api,
            self.model,
            self.model_artifact("1", max_depth=6),
            lineage=Lineage(
                code_commit="4f1c2ab",
                data_snapshot_hash="sha256:91d0",
                data_description="orders 2026-09",
                params={"max_depth": 6},
                validation_metrics={"auc": 0.861},
                gates={"auc_min": True, "bias": True},
                **base,
            ),
        )
        v2 = seed.register_directory(
            api,
            self.model,
            self.model_artifact("2", max_depth=8),
            lineage=Lineage(
                code_commit="9e77d10",
                data_snapshot_hash="sha256:b3c4",
                data_description="orders 2026-10",
                params={"max_depth": 8},
                validation_metrics={"auc": 0.874},
                gates={"auc_min": True, "bias": True},
                **base,
            ),
        )
        assert (v1, v2) == ("1", "2"), (v1, v2)
        seed.set_alias(api, self.model, self.alias, v2)
        api.close()

    def model_artifact(self, version: str, **params) -> Path:
        """A stand-in model directory (an MLmodel file and the "weights")."""
        root = self.workdir / "artifacts-to-upload" / f"{self.model}-{version}"
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "MLmodel").write_text(f"flavors: {{}}\nversion: {version}\n")
        (root / "data" / "model.json").write_text(json.dumps({"version": version, **params}))
        return root

    def write_log(self, broken: bool) -> dict:
        """Six hours of the churn model's prediction log up to now, to Parquet and (when
        PostgreSQL runs) to the ``churn_predictions`` table. ``broken``: the upstream rename
        ``total_order_amount`` → ``order_total_amount`` 50 minutes ago, which turns
        ``avg_order_value_90d`` 94.2% null (the null-feature fault)."""
        import shutil

        from predlog import churn_log, write_parquet, write_postgres

        now = datetime.now(UTC).replace(microsecond=0)
        onset = now - timedelta(minutes=50) if broken else None
        frame = churn_log(now - timedelta(hours=6), now, onset)
        shutil.rmtree(self.log_dir, ignore_errors=True)
        write_parquet(frame, self.log_dir)
        if self.postgres is not None:
            write_postgres(frame, self.postgres.dsn, "churn_predictions")
        return {"rows": len(frame), "onset": onset.isoformat() if onset else None}

    def rollbook_config(self, env: str = "local", window: str = "2m") -> str:
        servers = {v: (f"v{v}" if v.isdigit() else v) for v in self.servers}
        versions = ", ".join(f'"{v}" = "{s}"' for v, s in servers.items() if v.isdigit())
        return f"""\
# Written by examples/local-stack/stack.py: Rollbook against the real local stack.
default_env = "{env}"

[env.{env}]
allow_auto_actions = false
revenue_per_hour = {{ {self.model} = 12000 }}

[env.{env}.registry]
plugin = "mlflow"
url = "{self.mlflow.url}"
alias = "{self.alias}"

[env.{env}.metrics]
plugin = "prometheus"
url = "{self.prometheus.url}"
alertmanager_url = "{self.alertmanager.url}"
window = "{window}"

[env.{env}.traffic]
plugin = "haproxy"
socket = "{self.haproxy.socket_path}"
sample_request = '{{"features": {{"tenure_months": 14, "avg_order_value_90d": 41.5}}}}'

[env.{env}.traffic.models.{self.model}]
backend = "{self.model}"
versions = {{ {versions} }}
fallbacks = {{ previous = "1", rules = "rules" }}

[env.{env}.predictions]                 # the prediction log, queried where it lives
plugin = "parquet"
path = "{self.log_dir}"
segments = ["plan_type", "region"]
features = {json.dumps(list(FEATURES))}
# or the same log in PostgreSQL (export ROLLBOOK_PREDICTIONS_DSN="{self.pg_dsn}"):
# plugin = "postgres"
# dsn_env = "ROLLBOOK_PREDICTIONS_DSN"
# table = "churn_predictions"
"""

    @property
    def pg_dsn(self) -> str:
        return self.postgres.dsn if self.postgres else "host=… port=… user=… dbname=…"

    def stop(self) -> None:
        for s in (
            self.postgres,
            self.haproxy,
            self.prometheus,
            self.alertmanager,
            self.mlflow,
            *self.servers.values(),
        ):
            if s is not None:
                s.stop()

    def pids(self) -> dict[str, int]:
        out = {}
        if self.postgres is not None and self.postgres.proc is not None:
            out["postgres"] = self.postgres.proc.pid
        for s in (
            self.haproxy,
            self.prometheus,
            self.alertmanager,
            self.mlflow,
            *self.servers.values(),
        ):
            if s is not None and s.proc is not None and s.proc.pid:
                out[s.proc.name] = s.proc.pid
        return out


def _up(args: argparse.Namespace) -> int:
    missing = [n for n, find in PROGRAMS.items() if find() is None]
    if missing:
        print(
            f"missing programs: {', '.join(missing)}. Install them with:\n"
            "  sudo apt-get install -y --no-install-recommends prometheus "
            "prometheus-alertmanager haproxy\n"
            "  python3 -m venv ~/.cache/rollbook-ci/mlflow && "
            "~/.cache/rollbook-ci/mlflow/bin/pip install mlflow==3.17.2",
            file=sys.stderr,
        )
        return 1
    workdir = Path(args.dir).expanduser().resolve()
    home = workdir / "rollbook-home"
    stack = Stack(workdir)
    t0 = time.monotonic()
    try:
        stack.launch(history=not args.no_history)
        stack.seed()
    except BaseException:
        stack.stop()
        raise
    log = stack.write_log(broken=False)
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(stack.rollbook_config())
    (workdir / "stack.json").write_text(
        json.dumps(
            {
                "log_dir": str(stack.log_dir),
                "pg_dsn": stack.pg_dsn,
                "log_rows": log["rows"],
                "v2_admin": stack.servers["2"].url + "/admin",
            }
        )
    )
    (workdir / "pids.json").write_text(json.dumps(stack.pids(), indent=2))
    print(
        f"local stack up in {time.monotonic() - t0:.1f}s (logs in {workdir})\n"
        f"  MLflow        {stack.mlflow.url}\n"
        f"  Prometheus    {stack.prometheus.url}\n"
        f"  Alertmanager  {stack.alertmanager.url}\n"
        f"  HAProxy       {stack.haproxy.frontend_url(stack.model)}  "
        f"(runtime API {stack.haproxy.socket_path})\n"
        f"  model servers "
        + ", ".join(f"{v}: {s.url}" for v, s in stack.servers.items())
        + f"\n\nTry it:\n  export ROLLBOOK_HOME={home}\n  rollbook status\n"
        f"  curl -s -XPOST {stack.servers['2'].url}/admin -d '{{\"error_rate\": 0.5}}'"
        f"   # break version 2\n"
        f"  for i in $(seq 300); do curl -s -XPOST "
        f"{stack.haproxy.frontend_url(stack.model)}/predict >/dev/null; done\n"
        f"  rollbook status            # ModelErrorRateHigh fires within ~20 s\n"
        f"  rollbook rollback {stack.model} --to 1\n"
        f"\nThe reference incident (the upstream rename) on the prediction log:\n"
        f"  python {Path(__file__).name} fault null-feature --dir {workdir}\n"
        f"  rollbook alerts --open; rollbook run INC-0001   # null rate, schema diff, drift\n"
        f"  rollbook drift --model {stack.model} --window 50m   # after `rollbook profile build`\n"
        f"Prediction log: {stack.log_dir}"
        + (f" and table churn_predictions ({stack.pg_dsn})" if stack.postgres else "")
        + "\n"
    )
    if args.detach:
        print(f"stop it with: python {Path(__file__).name} down --dir {workdir}")
        return 0
    print("Ctrl-C stops the stack.")
    try:
        while all(s.proc.alive() for s in (stack.mlflow, stack.prometheus, stack.haproxy)):
            time.sleep(1)
        print("a server exited; stopping the stack", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def _down(args: argparse.Namespace) -> int:
    pidfile = Path(args.dir).expanduser() / "pids.json"
    if not pidfile.exists():
        print(f"no stack recorded in {pidfile}", file=sys.stderr)
        return 1
    pids = json.loads(pidfile.read_text())
    for name, pid in pids.items():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
            print(f"stopping {name} (pid {pid})")
    deadline = time.monotonic() + 15
    for name, pid in pids.items():
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.2)
        if _group_alive(pid):  # did not stop on SIGTERM in time
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            print(f"killed {name} (pid {pid})")
    pidfile.unlink()
    return 0


def _fault(args: argparse.Namespace) -> int:
    """Break the running stack's churn feed: the prediction log (Parquet and PostgreSQL)
    gets the upstream rename 50 minutes ago, and version 2's server reports the null rate
    so Prometheus's FeatureNullRateHigh fires."""
    workdir = Path(args.dir).expanduser().resolve()
    state = json.loads((workdir / "stack.json").read_text())
    stack = Stack(workdir)
    if "port=" in state["pg_dsn"] and "…" not in state["pg_dsn"]:
        port = int(state["pg_dsn"].split("port=")[1].split()[0])
        stack.postgres = PostgresServer(workdir / "postgres", port=port)
    info = stack.write_log(broken=True)
    with contextlib.suppress(OSError):
        from processes import http_json

        http_json(state["v2_admin"], {"null_rate": 0.942})
    print(
        f"null-feature fault: {info['rows']:,} log rows rewritten, total_order_amount renamed "
        f"to order_total_amount at {info['onset']}; avg_order_value_90d is ~94% null since"
    )
    return 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Rollbook's local real stack.")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start, seed, write the Rollbook config")
    up.add_argument("--dir", default="~/.cache/rollbook-stack")
    up.add_argument("--detach", action="store_true", help="leave it running and return")
    up.add_argument("--no-history", action="store_true", help="skip the promtool backfill")
    down = sub.add_parser("down", help="stop a detached stack")
    down.add_argument("--dir", default="~/.cache/rollbook-stack")
    fault = sub.add_parser("fault", help="inject a fault into a running stack")
    fault.add_argument("name", choices=["null-feature"])
    fault.add_argument("--dir", default="~/.cache/rollbook-stack")
    a = p.parse_args(argv)
    return {"up": _up, "down": _down, "fault": _fault}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
