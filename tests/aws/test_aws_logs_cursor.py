"""TailCursor: the pure memory of a log tail (no I/O)."""

from __future__ import annotations

import pytest

from smtop.aws.logs.cursor import TailCursor, TailScan
from smtop.models import LogEvent


def ev(ms: int, stream: str = "AllTraffic/i-1", message: str = "line", event_id: str = "") -> LogEvent:
    return LogEvent(timestamp=ms / 1000, message=message, stream=stream, event_id=event_id)


def pages(events: list[LogEvent], size: int) -> list[list[LogEvent]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


BASE = 1_795_000_000_000


def test_equal_timestamps_across_pages_are_shown_once():
    # 3 streams x 40 events on only 4 distinct milliseconds, read in pages of 7.
    events = [ev(BASE + i % 4, f"v/i-{s}", f"{s}-{i}") for i in range(40) for s in range(3)]
    events.sort(key=lambda e: e.timestamp)
    cursor = TailCursor(BASE - 60_000)
    scan = cursor.scan()
    shown = [e for page in pages(events, 7) for e in scan.accept(page)]
    assert sorted(shown, key=id) == sorted(events, key=id)

    # The next poll reads the same window again: nothing is new.
    again = cursor.scan()
    assert again.start_ms == BASE + 3 - cursor.lag_ms
    assert [e for page in pages(events, 5) for e in again.accept(page)] == []


def test_identical_lines_in_one_millisecond_are_twins_not_repeats():
    twin = [ev(BASE, message="GET /ping 200") for _ in range(2)]
    cursor = TailCursor(BASE - 1)
    assert len(cursor.scan().accept(twin)) == 2
    assert cursor.scan().accept(twin) == []
    # A third one ingested later is new; the first two are still not.
    assert len(cursor.scan().accept(twin + [ev(BASE, message="GET /ping 200")])) == 1


def test_a_scan_split_between_pages_in_the_middle_of_twins():
    twins = [ev(BASE, message="same") for _ in range(5)]
    cursor = TailCursor(BASE - 1)
    first = cursor.scan()
    assert len(first.accept(twins[:2])) == 2  # the poll stopped after two
    second = cursor.scan()  # the next poll re-reads all five
    assert len(second.accept(twins)) == 3


def test_late_events_inside_the_lag_window_are_shown_older_ones_are_not():
    cursor = TailCursor(BASE, lag_ms=10_000)
    cursor.scan().accept([ev(BASE + 20_000, message="newest")])
    scan = cursor.scan()
    assert scan.start_ms == BASE + 10_000
    late = ev(BASE + 15_000, "v/i-2", "ingested late")
    too_late = ev(BASE + 5_000, "v/i-2", "ingested far too late")
    assert scan.accept([late]) == [late]
    assert scan.accept([too_late]) == []
    assert cursor.late == 1
    assert cursor.newest == BASE + 20_000  # a late event does not move the cursor back


def test_events_before_the_start_are_not_shown():
    cursor = TailCursor(BASE)
    assert cursor.scan().accept([ev(BASE - 1), ev(BASE)]) == [ev(BASE)]


def test_memory_is_bounded_by_the_lag_window():
    cursor = TailCursor(BASE, lag_ms=1_000)
    scan = cursor.scan()
    for i in range(50_000):  # one event per ms for 50 s
        scan.accept([ev(BASE + i, message=str(i))])
    assert cursor.remembered <= 1_001
    assert len(scan.counts) <= 1_002
    assert cursor.shown == 50_000


def test_memory_is_bounded_by_max_keys_but_keeps_the_newest_millisecond():
    cursor = TailCursor(BASE, lag_ms=60_000, max_keys=100)
    scan = cursor.scan()
    for i in range(1_000):
        scan.accept([ev(BASE + i // 10, message=str(i))])
    assert cursor.remembered <= 100
    # Forgotten timestamps are never re-read: the next scan starts after them.
    assert cursor.floor > BASE
    burst = [ev(BASE + 500, message=f"burst {i}") for i in range(1_000)]
    assert len(cursor.scan().accept(burst)) == 1_000
    assert cursor.remembered >= 1_000  # all at the newest ms: none may be forgotten
    assert cursor.scan().accept(burst) == []


def test_live_tail_events_without_ids_dedupe_against_polled_ones():
    polled = [ev(BASE + i, f"v/i-{i % 2}", f"m{i}", event_id=f"3{i:055d}") for i in range(10)]
    live = [ev(BASE + i, f"v/i-{i % 2}", f"m{i}") for i in range(12)]
    cursor = TailCursor(BASE - 1)
    assert cursor.scan().accept(polled) == polled
    session = TailScan(cursor, cursor.floor, live=True)
    assert session.accept(live) == live[10:]
    # And back: a catch-up poll after the session shows nothing twice.
    polled_again = polled + [ev(BASE + i, f"v/i-{i % 2}", f"m{i}", event_id=f"3{i:055d}") for i in (10, 11)]
    assert cursor.scan().accept(polled_again) == []


def test_bad_arguments():
    with pytest.raises(ValueError):
        TailCursor(0, lag_ms=-1)
    with pytest.raises(ValueError):
        TailCursor(0, max_keys=0)
