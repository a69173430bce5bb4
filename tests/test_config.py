"""The config file: where it is, reading [[queries]], appending one, and a malformed file."""

from __future__ import annotations

import tomllib

from smtop.config import append_query, config_path, load_queries
from smtop.models.insights import SavedQuery


def test_the_path_is_the_flag_then_the_environment_then_the_platform_default(tmp_path, monkeypatch):
    monkeypatch.setenv("SMTOP_CONFIG", str(tmp_path / "env.toml"))
    assert config_path(tmp_path / "flag.toml") == tmp_path / "flag.toml"
    assert config_path(None) == tmp_path / "env.toml"
    monkeypatch.delenv("SMTOP_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path(None) == tmp_path / "xdg" / "smtop" / "config.toml"


def test_a_missing_file_is_no_problem(tmp_path):
    loaded = load_queries(tmp_path / "none.toml")
    assert loaded.queries == () and loaded.problem is None


def test_queries_are_read_and_bad_tables_named(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "# my queries\n"
        "[[queries]]\nname = \"oom\"\nquery = '''\nfilter @message like /out of memory/\n| stats count(*) by bin(5m)'''\n"
        "log_groups = [\"/aws/sagemaker/Endpoints/a\"]\n\n"
        "[[queries]]\nname = \"no text\"\n\n"
        "[[queries]]\nname = \"plain\"\nquery = \"fields @message\"\n"
    )
    loaded = load_queries(path)
    assert loaded.queries == (
        SavedQuery("oom", "filter @message like /out of memory/\n| stats count(*) by bin(5m)", "config", ("/aws/sagemaker/Endpoints/a",)),
        SavedQuery("plain", "fields @message", "config"),
    )
    assert "number 2 skipped" in loaded.problem


def test_a_malformed_file_gives_the_line_and_the_defaults(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[queries]]\nname = "a"\nquery = "unterminated\n')
    loaded = load_queries(path)
    assert loaded.queries == ()
    assert str(path) in loaded.problem and "line 3" in loaded.problem and "using the defaults" in loaded.problem


def test_append_keeps_what_the_user_wrote_and_round_trips(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    append_query(path, SavedQuery("first", 'filter @message like /a\\/b "c"/\n| limit 5', "built-in", ("/g",)))
    with path.open("a") as file:
        file.write("# a comment of the user's\n[other]\nkey = 1\n")
    append_query(path, SavedQuery("second", "fields @timestamp", "account", (), "id-1"))
    text = path.read_text()
    assert "# a comment of the user's" in text and tomllib.loads(text)["other"] == {"key": 1}
    assert load_queries(path).queries == (
        SavedQuery("first", 'filter @message like /a\\/b "c"/\n| limit 5', "config", ("/g",)),
        SavedQuery("second", "fields @timestamp", "config"),
    )


def test_the_config_flag_reaches_the_settings():
    from smtop.cli import build_parser, settings_from

    assert settings_from(build_parser().parse_args(["--config", "~/q.toml"])).config_path == "~/q.toml"
    assert settings_from(build_parser().parse_args([])).config_path is None
