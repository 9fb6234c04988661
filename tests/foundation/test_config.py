from pathlib import Path

import pytest

from console import config
from console.errors import ConfigError


def write(home: Path, text: str) -> Path:
    p = home / "config.toml"
    p.write_text(text)
    return p


def test_no_file_means_embedded_demo(rollbook_home):
    cfg = config.load()
    assert cfg.path == rollbook_home / "config.toml"
    assert cfg.data_dir == rollbook_home / "data"
    assert cfg.default_env == "demo"
    assert {rc.plugin for rc in cfg.env().roles.values()} == {"embedded"}


def test_short_and_long_role_forms(rollbook_home):
    write(
        rollbook_home,
        """
default_env = "prod"
[env.prod]
metrics = "embedded"
traffic = "embedded"
read_only = true
[env.prod.registry]
plugin = "mlflow"
url = "http://127.0.0.1:5000"
token_env = "MLFLOW_TOKEN"
""",
    )
    cfg = config.load()
    prod = cfg.env()
    assert prod.name == "prod" and prod.read_only
    assert prod.role("registry").plugin == "mlflow"
    assert prod.role("registry").options["url"] == "http://127.0.0.1:5000"
    assert prod.role("metrics").plugin == "embedded"


def test_toml_syntax_error_names_file_and_line(rollbook_home):
    p = write(rollbook_home, "[env.prod\nregistry = 1\n")
    with pytest.raises(ConfigError) as err:
        config.load()
    assert str(p) in str(err.value) and "line 1" in str(err.value)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[env.prod]\nregistry = 3\n", "env.prod.registry", "plugin name"),
        ('[env.prod.registry]\nurl = "x"\n', "env.prod.registry.plugin", "missing plugin"),
        ('[env.prod]\nregistyr = "embedded"\n', "env.prod.registyr", "unknown key"),
        ('[env.prod]\nread_only = "yes"\n', "env.prod.read_only", "true or false"),
        ('default_env = "nope"\n', "default_env", "unknown environment"),
        ('[thresholds]\npsi_significant = "high"\n', "thresholds.psi_significant", "number"),
        ("[thresholds]\npsi_huge = 1\n", "thresholds.psi_huge", "unknown threshold"),
        ('colour = "red"\n', "colour", "unknown key"),
    ],
)
def test_bad_config_names_file_key_and_problem(rollbook_home, text, key, words):
    p = write(rollbook_home, text)
    with pytest.raises(ConfigError) as err:
        config.load()
    assert err.value.key == key
    assert str(p) in str(err.value)
    assert words in str(err.value)
    assert err.value.exit_code == 3


def test_secret_in_config_is_refused(rollbook_home):
    write(rollbook_home, '[env.prod.registry]\nplugin = "mlflow"\ntoken = "s3cret"\n')
    with pytest.raises(ConfigError) as err:
        config.load()
    assert err.value.key == "env.prod.registry.token"
    assert "token_env" in str(err.value)


def test_secret_comes_from_named_environment_variable(rollbook_home, monkeypatch):
    from console.backends.plugin import PluginContext

    ctx = PluginContext("prod", rollbook_home, config_path=rollbook_home / "config.toml")
    monkeypatch.setenv("MY_TOKEN", "abc")
    assert ctx.secret({"token_env": "MY_TOKEN"}, "token") == "abc"
    monkeypatch.delenv("MY_TOKEN")
    with pytest.raises(ConfigError) as err:
        ctx.secret({"token_env": "MY_TOKEN"}, "token", required=True)
    assert "MY_TOKEN is not set" in str(err.value)


def test_env_variable_overrides_default_env(rollbook_home, monkeypatch):
    write(
        rollbook_home,
        '[env.staging]\nregistry = "embedded"\nmetrics = "embedded"\ntraffic = "embedded"\n',
    )
    monkeypatch.setenv("ROLLBOOK_ENV", "staging")
    assert config.load().default_env == "staging"


def test_unknown_env_requested(rollbook_home):
    with pytest.raises(ConfigError) as err:
        config.load().env("prod")
    assert "known environments: demo" in str(err.value)


def test_cli_reports_bad_config_with_exit_code_3(rollbook_home):
    import subprocess
    import sys

    write(rollbook_home, "[env.demo]\nread_only = 5\n")
    r = subprocess.run([sys.executable, "-m", "console", "status"], capture_output=True, text=True)
    assert r.returncode == 3
    assert "env.demo.read_only" in r.stderr and "config.toml" in r.stderr
