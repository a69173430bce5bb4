"""Themes, NO_COLOR and graph glyphs: what the console draws on terminals that differ."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from smtop.cli import open_fleet
from smtop.ui.app import SmtopApp
from smtop.ui.themes import glyph_mode
from smtop.models import EndpointMetrics, MetricSeries
from smtop.ui.widgets.metric_panel import MetricPanel, MetricRow
from tests.ui.test_insights_snapshot import ResultsApp

BRAILLE = re.compile("[\u2800-\u28ff]")
EIGHTHS = set("▁▂▃▄▅▆▇█")
QUADRANTS = set("▖▗▘▝▙▚▛▜▞▟")


def make_app(settings, clock) -> SmtopApp:
    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)


@pytest.mark.parametrize(
    ("setting", "environ", "mode"),
    [
        ("auto", {"LANG": "en_US.UTF-8", "TERM": "xterm-256color"}, "braille"),
        ("auto", {"LANG": "C.utf8", "TERM": "screen"}, "braille"),
        ("auto", {"LANG": "en_US.UTF-8", "TERM": "linux"}, "block"),  # the Linux console has no braille font
        ("auto", {"LANG": "en_US.ISO-8859-1", "TERM": "xterm"}, "ascii"),
        ("auto", {"TERM": "xterm"}, "ascii"),  # no locale at all: C, ASCII
        ("auto", {"LC_ALL": "C", "LANG": "en_US.UTF-8", "TERM": "xterm"}, "ascii"),  # LC_ALL wins
        ("auto", {"LANG": "en_US.UTF-8", "TERM": "vt100"}, "ascii"),
        ("block", {"LANG": "C", "TERM": "vt100"}, "block"),  # an explicit choice is kept
    ],
)
def test_auto_glyphs_follow_the_locale_and_the_terminal(setting, environ, mode):
    assert glyph_mode(setting, environ) == mode


def colours(svg: str) -> set[tuple[int, int, int]]:
    return {tuple(int(h[i : i + 2], 16) for i in (0, 2, 4)) for h in re.findall(r"#([0-9a-fA-F]{6})\b", svg)}


async def screen_colours(app: SmtopApp) -> set[tuple[int, int, int]]:
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()  # borders, footer and title are coloured before any data arrives
        return colours(app.export_screenshot())


async def test_no_color_draws_the_whole_screen_in_greys(sim_settings, frozen_clock, monkeypatch):
    coloured = await screen_colours(make_app(sim_settings, frozen_clock))
    assert any(len({r, g, b}) > 1 for r, g, b in coloured)  # the same screen has colour without NO_COLOR
    monkeypatch.setenv("NO_COLOR", "1")
    greys = await screen_colours(make_app(sim_settings, frozen_clock))
    # The SVG's own frame is not the terminal's: its three window buttons, and
    # Rich's default foreground (#c5c8c6) it writes for text that has no colour.
    frame = {(0xFF, 0x5F, 0x57), (0xFE, 0xBC, 0x2E), (0x28, 0xC8, 0x40), (0xC5, 0xC8, 0xC6)}
    assert {c for c in greys - frame if len(set(c)) > 1} == set()


async def test_the_configured_theme_is_used_and_an_unknown_one_is_named(sim_settings, frozen_clock):
    app = make_app(replace(sim_settings, theme="smtop-high-contrast"), frozen_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "smtop-high-contrast"
        assert app.screen.styles.background.rgb == (0, 0, 0)
    app = make_app(replace(sim_settings, theme="solarised"), frozen_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        notes = [n.message for n in app._notifications]
        assert any("There is no theme 'solarised'; keeping textual-dark" in n and "smtop-high-contrast" in n for n in notes)


class GlyphsApp(ResultsApp):
    """The Insights results screen (a plotext chart) over the metric panel, drawn in one glyph mode."""

    def __init__(self, glyphs: str) -> None:
        super().__init__()
        self.glyphs = glyphs  # what SmtopApp sets from --glyphs / the config file

    def compose(self):
        yield MetricPanel(id="metrics")

    def on_mount(self) -> None:
        values = (3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9)
        series = MetricSeries("ModelLatency", "Average", 60, tuple(60.0 * i for i in range(len(values))), values)
        panel = self.query_one(MetricPanel)
        panel.deployed_at = (4 * 60.0 + 1,)  # a deployment: its column keeps the bar's glyph
        panel.show(EndpointMetrics("ep", {("ModelLatency", "Average"): series}), has_gpu=False)


@pytest.mark.parametrize("glyphs", ["braille", "block", "ascii"])
async def test_sparklines_and_charts_draw_with_the_glyphs_chosen(glyphs):
    app = GlyphsApp(glyphs)
    async with app.run_test(size=(110, 36)) as pilot:
        await pilot.pause()
        row = app.query_one("#metric-ModelLatency", MetricRow)
        assert row.marks == frozenset({4})
        line = row.render_line(row.size.height - 1).text
        chart = app.export_screenshot()
    assert line.strip()
    if glyphs == "ascii":
        assert line.isascii() and "#" in line  # the highest value fills its cell
    else:
        assert set(line) & EIGHTHS
    assert bool(BRAILLE.search(chart)) == (glyphs == "braille")
    assert bool(set(chart) & QUADRANTS) == (glyphs == "block")


async def test_the_console_takes_its_glyphs_from_the_settings(sim_settings, frozen_clock, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.ISO-8859-1")
    assert make_app(sim_settings, frozen_clock).glyphs == "ascii"  # auto, and the locale is not UTF-8
    assert make_app(replace(sim_settings, glyphs="block"), frozen_clock).glyphs == "block"
