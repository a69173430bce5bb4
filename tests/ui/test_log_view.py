"""The log view on its own: bounded buffer, hostile text shown literally."""

from __future__ import annotations

from textual.app import App, ComposeResult

from smtop.models import LogEvent
from smtop.ui.widgets.log_view import MAX_LINE_CHARS, LineRing, LogLine, LogView
from tests.ui.conftest import wait_for

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


def test_ring_keeps_the_newest_lines_whole():
    ring = LineRing(3)
    lines = [LogLine(event(i, f"m{i}"), f"t{i}", i % 2 == 0, ("", "warn", "error")[i % 3], 40 + i) for i in range(5)]
    for line in lines:
        ring.append(line)
    assert list(ring) == lines[2:] and ring[0] == lines[2] and ring[-1] == lines[4] and len(ring) == 3
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


async def test_a_key_is_answered_while_a_large_batch_is_taken_in_and_nothing_is_lost():
    """A burst is taken in slice by slice: a key pressed meanwhile acts at once
    (pausing routes the rest of the burst to the paused backlog), and in the
    end every event is there exactly once, in order."""
    count = 50_000
    app = Harness(capacity=count)
    async with app.run_test(size=(120, 20)) as pilot:
        view = app.query_one(LogView)
        view.focus()
        view.feed(event(i, f"burst line {i}") for i in range(count))
        assert 0 < len(view.lines) < count and view.backlog  # one slice now, the rest later
        await pilot.press("f")
        assert not view.follow
        # Lines taken in after the key went to the paused backlog: the key was
        # handled before the burst was in.
        await wait_for(pilot, lambda: not view.backlog, timeout=20)
        assert len(view.pending) > 0
        assert len(view.lines) + len(view.pending) == count
        await pilot.press("f")
        await pilot.pause()
        assert view.follow and not view.pending and view.dropped == 0
        assert [line.event.event_id for line in view.lines] == [str(i) for i in range(count)]
        assert view.virtual_size.height == count  # the layout caught up with the last slice
        assert "burst line 49999" in screen_text(view)[-1]


async def test_a_burst_larger_than_the_buffer_is_cut_before_it_costs_anything():
    app = Harness(capacity=1_000)
    async with app.run_test(size=(120, 20)) as pilot:
        view = app.query_one(LogView)
        view.feed(event(i, f"line {i}\nsecond {i}") for i in range(5_000))
        assert view.backlog <= 500 and view.dropped >= 9_000  # queued: only what the buffer can hold
        await wait_for(pilot, lambda: not view.backlog, timeout=20)
        assert len(view.lines) == 1_000 and view.dropped == 9_000
        assert view.lines[0].text == "line 4500" and view.lines[-1].text == "second 4999"


async def test_wrap_index_keeps_up_with_a_burst_taken_in_slices():
    app = Harness(capacity=2_000)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(LogView)
        view.focus()
        await pilot.press("w")
        view.feed(event(i, f"{i} " + "w" * (i % 300)) for i in range(6_000))
        await wait_for(pilot, lambda: not view.backlog, timeout=20)
        await pilot.pause()
        width = view._text_width()  # noqa: SLF001 - the rows each line wraps to, computed here independently
        expected = sum(max(1, -(-len(line.text) // width)) for line in view.lines)
        assert len(view.lines) == 2_000 and view.virtual_size.height == expected
        assert any("5999 " in row for row in screen_text(view))  # following: the newest line is on screen
