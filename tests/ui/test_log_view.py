"""The log view on its own: bounded buffer, hostile text shown literally."""

from __future__ import annotations

from textual.app import App, ComposeResult

from smtop.models import LogEvent
from smtop.ui.widgets.log_view import MAX_LINE_CHARS, LogView, Ring

HOSTILE = [
    "\x1b[2J\x1b[H cleared your screen",  # ANSI: clear screen, cursor home
    "\x1b]0;pwned title\x07 set the window title",  # OSC title
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ hyperlink",  # OSC 8
    "[bold red]not markup[/bold red] [link=x]y[/link] [@click=app.quit]quit[/]",
    "bell\x07 backspace\x08\x08 carriage\rreturn del\x7f c1\x9b31m",
    "right-to-left \u202eoverride\u202c and zero\u200bwidth\u2066isolate\u2069",
    "lone surrogate \udcff from invalid utf-8",
    "wide 漢字 and emoji 🔥 stay aligned",
]


class Harness(App):
    def __init__(self, capacity: int = 100) -> None:
        super().__init__()
        self.capacity = capacity

    def compose(self) -> ComposeResult:
        yield LogView(self.capacity)


def event(i: int, message: str, stream: str = "AllTraffic/i-0abc") -> LogEvent:
    return LogEvent(timestamp=1_795_000_000 + i, message=message, stream=stream, event_id=str(i))


def screen_text(view: LogView) -> list[str]:
    return ["".join(seg.text for seg in view.render_line(y)) for y in range(view.size.height)]


def test_ring_keeps_the_newest():
    ring = Ring(3)
    for i in range(5):
        ring.append(i)
    assert list(ring) == [2, 3, 4] and ring[0] == 2 and ring[-1] == 4 and len(ring) == 3
    assert ring.evicted == 2


async def test_hostile_messages_render_literally():
    app = Harness()
    async with app.run_test(size=(200, 30)) as pilot:
        view = app.query_one(LogView)
        view.add_events(event(i, m) for i, m in enumerate(HOSTILE))
        await pilot.pause()
        rendered = "\n".join(screen_text(view))
        for forbidden in ("\x1b", "\x07", "\x08", "\x7f", "\x9b", "\r", "\u202e", "\u200b", "\u2066", "\udcff"):
            assert forbidden not in rendered, repr(forbidden)
        assert "\\x1b[2J\\x1b[H cleared your screen" in rendered
        assert "\\x1b]0;pwned title\\x07" in rendered
        assert "[bold red]not markup[/bold red] [link=x]y[/link] [@click=app.quit]quit[/]" in rendered
        assert "\\u202eoverride" in rendered and "zero\\u200bwidth" in rendered
        assert "漢字" in rendered and "🔥" in rendered
        assert app.is_running


async def test_a_megabyte_line_is_capped_on_screen():
    app = Harness()
    async with app.run_test(size=(120, 10)) as pilot:
        view = app.query_one(LogView)
        view.add_events([event(0, "x" * 1_048_576)])
        await pilot.pause()
        (line,) = list(view.lines)
        assert len(line.text) < MAX_LINE_CHARS + 100
        assert "1,048,576 chars" in line.text
        assert line.event.message == "x" * 1_048_576  # the event itself keeps everything


async def test_multiline_events_and_buffer_bound():
    app = Harness(capacity=50)
    async with app.run_test(size=(120, 20)) as pilot:
        view = app.query_one(LogView)
        traceback = "Traceback (most recent call last):\n  File \"serve.py\", line 1\nRuntimeError: CUDA out of memory"
        view.add_events([event(0, traceback)])
        assert [line.text for line in view.lines] == traceback.split("\n")
        assert all(line.level == "error" for line in view.lines)
        view.add_events(event(i, f"line {i}") for i in range(1, 101))
        await pilot.pause()
        assert len(view.lines) == 50 and view.dropped == 53
        assert view.lines[-1].text == "line 100"
        # Following: the newest line is on the last row of the screen.
        assert "line 100" in screen_text(view)[-1]


async def test_pause_holds_new_lines_until_follow_resumes():
    app = Harness()
    async with app.run_test(size=(120, 20)) as pilot:
        view = app.query_one(LogView)
        view.focus()
        view.add_events(event(i, f"before {i}") for i in range(5))
        await pilot.press("f")
        assert not view.follow
        view.add_events(event(i, f"while paused {i}") for i in range(5, 8))
        assert len(view.lines) == 5 and len(view.pending) == 3
        await pilot.press("up")  # moving through the lines keeps it paused
        assert not view.follow and view.cursor == 3
        await pilot.press("f")
        assert view.follow and len(view.lines) == 8 and len(view.pending) == 0
        assert view.lines[-1].text == "while paused 7"


async def test_wrap_and_timestamps_toggle():
    app = Harness()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.focus()
        view.add_events([event(0, "a" * 90 + " END")])
        await pilot.pause()
        assert view.virtual_size.height == 1
        await pilot.press("w")
        assert view.virtual_size.height > 1
        assert any("END" in line for line in screen_text(view))
        await pilot.press("T")
        assert not view.timestamps


async def test_a_batch_larger_than_the_buffer_keeps_its_newest_lines():
    app = Harness(capacity=100)
    async with app.run_test(size=(120, 20)):
        view = app.query_one(LogView)
        view.add_events([event(i, f"line {i}") for i in range(1_000)])
        assert len(view.lines) == 100 and view.dropped == 900
        assert view.lines[0].text == "line 900" and view.lines[-1].text == "line 999"


async def test_wrap_index_follows_appends_and_evictions():
    app = Harness(capacity=20)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        view.focus()
        await pilot.press("w")
        for batch in range(10):
            view.add_events([event(batch * 5 + i, f"{batch}-{i} " + "w" * 50) for i in range(5)])
        await pilot.pause()
        # Every line wraps to two rows; the index holds exactly the buffered lines.
        assert len(view.lines) == 20 and view.virtual_size.height == 40
        rows = ["".join(s.text for s in view.render_line(y)) for y in range(view.size.height)]
        assert any("9-4" in row for row in rows)  # the newest line is on screen
        view._visual = None  # a full rebuild must agree with the incremental index
        assert view._visual_count() == 40
