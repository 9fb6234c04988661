"""[keys] is checked when the config is read: an unknown binding id, a key bound twice on one
screen, or a remap that takes over q, ? or ctrl+c is a config error (exit 3) naming the file,
the binding and the clash. A remap that passes shows everywhere the key is named."""

import subprocess
import sys

import pytest

from console.config import load
from console.errors import ConfigError
from console.keymap import COMMANDS, validate
from console.tui.screens.confirm import MitigationModal
from console.tui.screens.incident import IncidentScreen
from tests.tui.conftest import settle


def write(home, body: str):
    path = home / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('rolback = "X"', "keys.rolback", ["unknown binding id", "did you mean rollback"]),
        # n already writes a note on the incident screen
        ('acknowledge = "n"', "keys.acknowledge", ["bound twice", "note", "incident"]),
        # d is drift on the model screen too: the clash is named where it happens
        ('diff = "d"', "keys.diff", ["bound twice", "drift", "model"]),
        ('rollback = "q"', "keys.rollback", ["shadow", "q (back, or quit on the fleet)"]),
        ('drift = "?"', "keys.drift", ["shadow", "? (help)"]),
        ('refresh = "ctrl+c"', "keys.refresh", ["shadow", "^c (quit)"]),
        ('confirm_yes = "q"', "keys.confirm_yes", ["shadow"]),
        ("rollback = 5", "keys.rollback", ["expected a key name"]),
        ('rollback = ""', "keys.rollback", ["expected a key name"]),
        ('keys = "R"', "keys.keys", ["unknown binding id"]),
    ],
)
def test_a_bad_keys_table_is_a_config_error_naming_file_key_and_clash(
    rollbook_home, table, key, words
):
    path = write(rollbook_home, f"[keys]\n{table}\n")
    with pytest.raises(ConfigError) as err:
        load(path)
    exc = err.value
    assert exc.exit_code == 3
    assert exc.key == key
    text = f"{exc.message} {exc.hint or ''}"
    assert str(path) in text
    for w in words:
        assert w in text, text


def test_keys_must_be_a_table(rollbook_home):
    path = write(rollbook_home, 'keys = "R"\n')
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.key == "keys"


def test_a_swap_is_judged_after_both_remaps_and_names_are_normalised(rollbook_home):
    path = write(rollbook_home, '[keys]\nnote = "a"\nacknowledge = "n"\nfilter = "/"\n')
    cfg = load(path)
    assert dict(cfg.keys) == {"note": "a", "acknowledge": "n", "filter": "slash"}


def test_quit_and_help_themselves_may_move():
    assert validate({"quit": "x", "help": "h"}) == {"quit": "x", "help": "h"}
    # once quit has moved, q is free for another command
    assert validate({"quit": "x", "drift": "q"})["drift"] == "q"


def test_the_shipped_registry_has_no_clash():
    assert validate({c.id: c.key for c in COMMANDS})


def test_the_cli_exits_3_on_a_bad_keys_table(rollbook_home):
    write(rollbook_home, '[keys]\nrollback = "q"\n')
    out = subprocess.run(
        [sys.executable, "-m", "console", "status"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 3, out
    assert "keys.rollback" in out.stderr and "config.toml" in out.stderr


async def test_a_remap_shows_in_every_hint(make_app, demo):
    keys = {"rollback": "X", "run_step": "g", "confirm_yes": "Y", "help": "h"}
    app = make_app(incident=demo.incident.id, keys=keys)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None
        )
        screen = app.screen
        bar = " ".join(f"{h.key} {h.word}" for h in screen.query_one("KeyBar").shown())
        assert "X rollback" in bar and "g run step" in bar and "h help" in bar
        assert "R rollback" not in bar and "space" not in bar and "? help" not in bar
        keys_text = str(screen.query_one("#step-keys").render())
        assert "g runs" in keys_text and "space" not in keys_text
        await pilot.press("X")
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, MitigationModal) and app.screen.state in ("ready", "blocked")
            ),
        )
        hint = str(app.screen.query_one("#dialog-hint").render())
        assert hint.startswith("Y EXECUTE") and "n / esc cancel" in hint
        await pilot.press("y")  # the old key does nothing now
        await pilot.pause(0.2)
        assert app.screen.state == "ready"
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is screen)
