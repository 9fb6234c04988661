"""Every CLI command, with option and argument values generated from click's own parameter
definitions (its types, choices, ranges, flags, ``multiple`` and ``nargs``), mixed with the
values a person would type there (model and version names, incident ids, paths, weights,
durations) and with what nobody should type (NaN, ±inf, 1e309, negative, empty, junk).

Each input runs as a real CLI process (a fork-server child, see ``tests/chaos/children.py``)
on a copy of a seeded world with the demo incident open, with a deadline. It must end with a
README exit code, no traceback, and with ``--json`` an answer that parses. Commands that wait
by design (watching, following, a rollout's dwells) may reach the deadline; no other may.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.chaos.children import run_cli
from tests.chaos.worlds import child_env, copy_home, freeze, home_env
from tests.fuzz.conftest import assert_clean, count, fuzz_settings

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 20.0
#: commands that wait by design: reaching the deadline is not a hang
MAY_WAIT = {"incident follow", "incident watch", "alerts", "rollout", "update"}
#: not fuzzed here: the TUI (no terminal in a test) and the HTTP server (its own target)
SKIP = {"serve"}


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    params: tuple[click.Parameter, ...]

    @property
    def name(self) -> str:
        return " ".join(self.path)


def commands() -> list[Command]:
    from console.cli.main import cli

    ctx = click.Context(cli)
    found: list[Command] = []

    def walk(cmd: click.Command, path: tuple[str, ...]) -> None:
        own = tuple(p for p in cmd.params if p.name != "help")
        if isinstance(cmd, click.Group):
            if cmd.invoke_without_command and own and path:
                found.append(Command(path, own))  # `canary` judges on its own
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), (*path, name))
        elif " ".join(path) not in SKIP:
            found.append(Command(path, own))

    walk(cli, ())
    return found


COMMANDS = commands()

# ---- values ------------------------------------------------------------------------------
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
NUMBERS = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "-0", "0", "1", "0.5", "1e-320", "", "x"]),
)
POOLS: dict[str, list[str]] = {
    "model": ["churn", "credit-score", "fraud", "pricing", "recommendations", "nope", ""],
    "version": ["v4", "v5", "v13", "v12", "v21", "v22", "4", "v99", ""],
    "incident": ["INC-0001", "inc-0001", "INC-0002", "INC-9999", "INC-", "x"],
    "scenario": ["athena-null-feature", "canary-latency-spike", "pricing-zero", "nope"],
    "runbook": ["null-feature", "model-misbehaving", "canary-latency", "nope"],
    "weights": ["v12=50", "v13=50", "v13=100", "fallback:rules=100", "x=1", "v13=nan", "="],
    "stages": ["10,25,50,100", "100", "50,100", "nan,100", "0,100", "100,50", "", "a,b"],
    "duration": ["2h", "30m", "1d", "1h30m", "-2h", "0m", "99999999d", "", "h"],
    "match": ["alertname=FeatureNullRateHigh", "model=~ch.*", "a!=b", "=x", "bad", "a=~("],
    "window": ["60m", "2h", "0m", "-1m", "1e12m", "2026-11-22T06:00/2026-11-22T07:00", "x/y"],
    "kinds": ["action.,incident.", "", ",", "note"],
    "person": ["ana", "ben", "", "a" * 80],
    "source": ["log", "missing.csv"],
    "step": ["acknowledge", "confirm_nulls", "decide", "nope"],
    "answer": ["1", "rollback", "hotfix", "9", ""],
    "columns": ["avg_order_value_90d", "tenure_months,plan_type", "", ","],
    "host": ["127.0.0.1", "localhost", "0.0.0.0", "::1", ""],
}


def pool_for(param: click.Parameter) -> str | None:
    name = (param.name or "").lower()
    for key, names in {
        "model": ("model",),
        "version": ("version", "to_version", "to"),
        "incident": ("incident_id", "incident"),
        "scenario": ("scenario",),
        "runbook": ("runbook", "runbook_id"),
        "weights": ("weights",),
        "stages": ("stages",),
        "duration": ("duration",),
        "match": ("match", "matchers"),
        "window": ("window",),
        "kinds": ("kinds",),
        "person": ("person", "confirmed_by"),
        "source": ("source",),
        "step": ("step",),
        "answer": ("answer",),
        "columns": ("columns", "categorical", "segment_by", "key", "score"),
        "host": ("host",),
    }.items():
        if name in names:
            return key
    return None


def value_of(param: click.Parameter, files: list[str]) -> st.SearchStrategy[str]:
    t = param.type
    if isinstance(t, click.Choice):
        return st.one_of(st.sampled_from([str(c) for c in t.choices]), TEXT)
    if isinstance(t, click.Path | click.File) or (param.name or "") in (
        "reference",
        "current",
        "paths",
        "output",
        "models_csv",
        "costs_toml",
        "champion",
        "action_items_csv",
        "from_path",
    ):
        return st.one_of(st.sampled_from(files), TEXT)
    if isinstance(t, click.types.FloatParamType | click.types.IntParamType):
        return NUMBERS
    pool = pool_for(param)
    if pool:
        return st.one_of(st.sampled_from(POOLS[pool]), TEXT)
    return TEXT


@st.composite
def argv_for(draw, cmd: Command, files: list[str]) -> list[str]:
    args: list[str] = []
    opts: list[list[str]] = []
    for p in cmd.params:
        if isinstance(p, click.Argument):
            n = draw(st.integers(0, 3)) if p.nargs == -1 else max(p.nargs, 1)
            if not p.required and draw(st.booleans()):
                n = 0
            args += [draw(value_of(p, files)) for _ in range(n)]
            continue
        assert isinstance(p, click.Option)
        if p.name == "no_tui":
            opts.append([p.opts[0]])  # never the TUI: no terminal here
            continue
        if not p.required and not draw(st.integers(0, 2)):  # most options: left out
            continue
        flag = p.opts[-1] if p.opts[-1].startswith("--") else p.opts[0]
        if p.is_flag:
            opts.append([flag])
            continue
        for _ in range(draw(st.integers(1, 2)) if p.multiple else 1):
            opts.append([flag, draw(value_of(p, files))])
    order = draw(st.permutations(range(len(opts)))) if opts else []
    return [*cmd.path, *args, *(tok for i in order for tok in opts[i])]


# ---- the world every input runs on --------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory) -> tuple[Path, list[str]]:
    """A seeded world with the demo incident open, sped up (a ten-minute dwell takes five
    seconds), and files for the commands that read some."""
    root = tmp_path_factory.mktemp("fuzz-home")
    home = root / "home"
    home.mkdir()
    with home_env(home):
        code, out, err = run_cli(["demo", "--no-tui", "--speed", "120"], child_env(home), root)
    assert code == 0, (out, err)
    freeze(home)
    data = home / "files"
    data.mkdir()
    (data / "ref.csv").write_text("a,b,c\n1,0.5,x\n2,0.7,y\n3,,x\n4,0.1,z\n")
    (data / "cur.csv").write_text("a,b,d\n1,0.9,x\n5,0.2,\n7,0.4,y\n")
    (data / "empty.csv").write_text("")
    (data / "header.csv").write_text("a,b\n")
    (data / "items.csv").write_text("title,owner,due\nfix it,ana,2026-12-01\n")
    shutil.copy(ROOT / "examples" / "models.csv", data / "models.csv")
    shutil.copy(ROOT / "examples" / "costs.toml", data / "costs.toml")
    (data / "runbook.yaml").write_text((ROOT / "runbooks" / "null-feature.yaml").read_text())
    files = [str(p) for p in sorted(data.iterdir())]
    files += [str(data), str(data / "nope.csv"), "/dev/null", str(data / "out" / "x.md")]
    return home, files


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.name for c in COMMANDS])
def test_every_command_option_value_ends_cleanly(cmd: Command, fuzz_home, tmp_path):
    home_template, files = fuzz_home
    runs = iter(range(10**9))

    @fuzz_settings(examples=4)
    @given(argv=argv_for(cmd, files))
    def run(argv: list[str]) -> None:
        i = next(runs)
        work = tmp_path / f"ex{i}"
        home = copy_home(home_template, work / "home")
        local = [a.replace(str(home_template), str(home)) for a in argv]
        code, out, err = run_cli(local, child_env(home), work, timeout=DEADLINE_S)
        count(f"cli {cmd.name}")
        if code is None:
            assert cmd.name in MAY_WAIT, f"rollbook {local!r} still running after {DEADLINE_S} s"
        else:
            assert_clean(local, code, out, err)
        shutil.rmtree(work, ignore_errors=True)

    run()
