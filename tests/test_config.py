"""The config file: where it is, reading [[queries]], appending one, and a malformed file."""

from __future__ import annotations

import tomllib

from smtop.config.file import append_query, config_path, load_queries
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


# -- the whole file: settings, precedence, problems, --print-config -------------------------

from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from smtop.config.file import effective_toml, load_config, parse_duration  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "config.sample.toml"


def settings_of(argv, path):
    from smtop.cli import build_parser, settings_from

    return settings_from(build_parser().parse_args([*argv, "--config", str(path)]), load_config(path))


def test_the_documented_sample_loads_without_a_problem_and_sets_every_value():
    raw = tomllib.loads(SAMPLE.read_text())
    loaded = load_config(SAMPLE)
    assert loaded.problems == ()
    settings = settings_of([], SAMPLE)
    assert settings.refresh == raw["refresh"] and settings.theme == raw["theme"] and settings.glyphs == raw["glyphs"]
    assert settings.endpoint_pattern == raw["endpoints"]
    assert settings.live_tail_idle == parse_duration(raw["live_tail_idle"]) != timedelta(minutes=15)
    assert settings.window == parse_duration(raw["ranges"]["metrics_window"])
    assert settings.log_since == parse_duration(raw["ranges"]["log_since"])
    assert settings.insights_range == parse_duration(raw["ranges"]["insights_range"])
    assert settings.keys == tuple(raw["keys"].items())
    assert [q.name for q in loaded.queries] == [q["name"] for q in raw["queries"]]
    assert [p.name for p in settings.alarm_presets] == [p["name"] for p in raw["alarm_presets"]]
    # Every key of the sample maps to a setting (none documented that smtop ignores).
    assert set(raw) == {"refresh", "theme", "glyphs", "endpoints", "live_tail_idle", "ranges", "keys", "queries", "alarm_presets"}


def test_the_command_line_beats_the_file_which_beats_the_defaults(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('refresh = 20\ntheme = "nord"\n\n[ranges]\nlog_since = "1h"\n')
    settings = settings_of(["--refresh", "7", "--glyphs", "ascii"], path)
    assert settings.refresh == 7 and settings.origin("refresh") == "command line"
    assert settings.theme == "nord" and settings.origin("theme") == "config file line 2"
    assert settings.log_since == timedelta(hours=1) and settings.origin("log_since") == "config file line 5"
    assert settings.glyphs == "ascii" and settings.origin("glyphs") == "command line"
    assert settings.insights_range == timedelta(hours=1) and settings.origin("insights_range") == "default"
    assert settings_of(["--demo"], tmp_path / "absent.toml").refresh == 5.0  # the demo's default, no file


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('theme = "nord"\nrefresh = "soon"\n', 2, "refresh must be a number of seconds"),
        ('refresh = 0\n', 1, "from 1 to 3600"),
        ('glyphs = "emoji"\n', 1, "auto, braille, block, ascii"),
        ('\n[ranges]\n\nlog_since = "forever"\n', 4, 'ranges.log_since must be a duration like "15m"'),
        ('[ranges]\nmetrics_window = "2d"\n', 2, "from 10m to 1d"),
        ('colour = "red"\n', 1, "colour is not a setting smtop knows"),
        ('theme = "nord"\nlive_tail_idle = "2d"\n', 2, 'live_tail_idle must be a duration like "15m" from 0s (never Live Tail) to 24h'),
        ('live_tail_idle = 15\n', 1, "live_tail_idle must be a duration"),
        ('[keys]\nrefresh = 5\n', 2, "keys.refresh must be a key name"),
    ],
)
def test_a_bad_value_names_file_and_line_and_only_that_value_falls_back(tmp_path, text, line, words):
    path = tmp_path / "config.toml"
    path.write_text('endpoints = "kept-*"\n' + text)  # a good value before the bad one
    loaded = load_config(path)
    assert len(loaded.problems) == 1
    assert f"{path} line {line + 1}: " in loaded.problems[0] and words in loaded.problems[0]
    assert loaded.problems[0].endswith("using the default.")
    settings = settings_of([], path)
    assert settings.endpoint_pattern == "kept-*"  # the good values around it still count
    assert settings.refresh == 60.0 and settings.glyphs == "auto" and settings.log_since == timedelta(minutes=15)


def test_an_alarm_preset_the_form_could_not_show_is_skipped_with_its_number(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[[alarm_presets]]\nname = "ok"\nmetric = "CPUUtilization"\nthreshold = 80\n\n'
        '[[alarm_presets]]\nname = "bad metric"\nmetric = "Nope"\n\n'
        '[[alarm_presets]]\nname = "bad stat"\nmetric = "ModelLatency"\nstatistic = "median"\n'
    )
    loaded = load_config(path)
    assert [(p.name, p.fields) for p in loaded.alarm_presets] == [("ok", (("metric", "CPUUtilization"), ("threshold", "80")))]
    assert "[[alarm_presets]] number 2, 3 skipped" in loaded.problem


def test_print_config_is_toml_that_reads_back_the_same_and_says_where_values_came_from(tmp_path, capsys):
    from smtop.cli import main

    assert main(["--config", str(SAMPLE), "--refresh", "12", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert "refresh = 12.0  # command line" in out
    sample_lines = SAMPLE.read_text().splitlines()
    theme_line = next(n for n, text in enumerate(sample_lines, start=1) if text.startswith("theme ="))
    assert f'theme = "smtop-high-contrast"  # config file line {theme_line}' in out
    copy = tmp_path / "copy.toml"
    copy.write_text(out)
    again, original = load_config(copy), load_config(SAMPLE)
    assert again.problems == ()
    assert {**again.values, "refresh": original.values["refresh"]} == original.values
    assert (again.keys, again.queries, again.alarm_presets) == (original.keys, original.queries, original.alarm_presets)


def test_print_config_of_a_malformed_file_shows_the_line_and_the_defaults(tmp_path, capsys):
    from smtop.cli import main

    path = tmp_path / "config.toml"
    path.write_text('refresh = 30\n[ranges\nlog_since = "1h"\n')
    assert main(["--config", str(path), "--print-config"]) == 0
    out = capsys.readouterr().out
    assert f"# problem: {path} is not valid TOML" in out and "line 2" in out
    assert "refresh = 60.0  # default" in out and 'log_since = "15m"  # default' in out
    assert 'live_tail_idle = "15m"  # default' in out


def test_effective_toml_of_the_defaults_is_valid_toml(tmp_path):
    from smtop.config.settings import Settings

    text = effective_toml(Settings(), tmp_path / "none.toml")
    assert "(absent)" in text
    document = tomllib.loads(text)
    assert document["refresh"] == 60.0 and document["ranges"]["metrics_window"] == "3h" and "endpoints" not in document


from tests.ui.conftest import aws_environment  # noqa: E402,F401  (the console tests' fixture: no real AWS)


@pytest.mark.usefixtures("aws_environment")
async def test_a_config_alarm_preset_fills_the_new_alarm_form(tmp_path, sim):
    from datetime import datetime, timezone

    from textual.widgets import Input, Select

    from smtop.cli import open_fleet
    from smtop.clock import FrozenClock
    from smtop.config.settings import Settings
    from smtop.ui.app import SmtopApp
    from smtop.ui.screens.alarm_form import AlarmFormScreen
    from tests.conftest import SIM_NOW
    from tests.ui.conftest import wait_for

    path = tmp_path / "config.toml"
    path.write_text('[[alarm_presets]]\nname = "slow p90"\nmetric = "ModelLatency"\nstatistic = "p90"\nthreshold = 500\nperiod = 60\n')
    frozen_clock = FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc))
    settings = Settings(endpoint_url=sim.url, region="us-east-1", alarm_presets=load_config(path).alarm_presets)
    app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None and app.main.selected is not None)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmFormScreen))
        form = app.screen
        preset = form.query_one("#preset", Select)
        assert ("slow p90 (config)", "config:slow p90") in [(str(label), value) for label, value in preset._options]
        preset.value = "config:slow p90"
        await pilot.pause()
        assert form.query_one("#statistic", Select).value == "p90" and form.query_one("#metric", Select).value == "ModelLatency"
        assert form.query_one("#threshold", Input).value == "500" and form.query_one("#period", Input).value == "60"
        assert form.query_one("#name", Input).value == f"{app.main.selected}-ModelLatency-p90-high"
