"""Colour themes and graph glyphs: what smtop draws with, chosen for the terminal at hand.

Themes are Textual's own plus one of smtop's, high contrast (pure white on
black, saturated status colours) for projectors, bright rooms and weak eyes.
``NO_COLOR`` needs nothing here: Textual reads it when the app is built and
draws every theme in greys.

Graph glyphs degrade in three steps because terminals differ in what they
can draw, not just in colour: braille needs a UTF-8 locale and a font with
the braille block (the Linux console has none), eighth-blocks need UTF-8,
and a non-UTF-8 locale or a vt100 gets ASCII.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from textual.app import App
from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="smtop-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ff8700",
    warning="#ffaf00",
    error="#ff5f5f",
    success="#5fff5f",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1c1c1c",
    boost="#303030",
    dark=True,
    text_alpha=1.0,
    variables={"footer-key-foreground": "#ffff00", "block-cursor-background": "#ffff00", "block-cursor-foreground": "#000000"},
)
"""smtop's own theme: white on black, a yellow cursor, no translucent text."""

GLYPH_MODES = ("braille", "block", "ascii")

_ASCII_TERMS = ("dumb", "vt52", "vt100", "vt102", "vt220", "ansi")
_NO_BRAILLE_TERMS = ("linux", "cons25", "screen.linux")


def register_themes(app: App) -> None:
    """Make smtop's themes selectable in ``app`` (config, --theme, command palette)."""
    app.register_theme(HIGH_CONTRAST)


def choose_theme(app: App, name: str | None) -> str | None:
    """Switch ``app`` to theme ``name``; the problem in words when there is no such theme."""
    if name is None:
        return None
    if name not in app.available_themes:
        known = ", ".join(sorted(app.available_themes))
        return f"There is no theme {name!r}; keeping {app.theme}. Themes: {known}."
    app.theme = name
    return None


def glyph_mode(setting: str, environ: Mapping[str, str] | None = None) -> str:
    """What graphs draw with: ``setting`` unless it is ``auto``, then what the locale and $TERM allow."""
    if setting in GLYPH_MODES:
        return setting
    env = os.environ if environ is None else environ
    # The first of these that is set decides, as in setlocale(3).
    locale = next((env[k] for k in ("LC_ALL", "LC_CTYPE", "LANG") if env.get(k)), "")
    term = env.get("TERM", "").lower()
    utf8 = "utf-8" in locale.lower() or "utf8" in locale.lower()
    if not utf8 or term in _ASCII_TERMS:
        return "ascii"
    if term in _NO_BRAILLE_TERMS:
        return "block"
    return "braille"


def glyphs_of(app: App) -> str:
    """The glyph mode of the running app (braille for apps that are not smtop's console, as in tests)."""
    return getattr(app, "glyphs", "braille")


def plot_marker(mode: str) -> str:
    """The plotext marker for a glyph mode: braille dots, quarter blocks, or a plain ``*``."""
    return {"braille": "braille", "block": "hd"}.get(mode, "*")
