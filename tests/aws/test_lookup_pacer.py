"""The LookupEvents pacer is one per account and region for every smtop process of the user.

Each console of ``smtop --serve`` is a process of its own (textual-serve runs
one per browser tab), and LookupEvents allows 2 requests per second for the
whole account and region (API reference, "LookupEvents"): the processes claim
their request slots from one shared file.
"""

from __future__ import annotations

import multiprocessing
import os

from smtop.aws.cloudtrail import LookupPacer

ACCOUNT, REGION, URL = "123456789012", "us-east-1", "https://cloudtrail.us-east-1.amazonaws.com"


def _claim(cache_home: str, account: str, region: str, count: int, start, out) -> None:
    os.environ["XDG_CACHE_HOME"] = cache_home
    from smtop.aws.cloudtrail import pacer_for

    pacer = pacer_for(URL, account, region)
    start.wait(10)
    out.put((account, region, [pacer.claim() for _ in range(count)]))


def _claims_from_processes(tmp_path, who: list[tuple[str, str]], count: int) -> dict[tuple[str, str], list[float]]:
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as textual-serve starts them
    start, out = context.Event(), context.Queue()
    processes = [context.Process(target=_claim, args=(str(tmp_path), a, r, count, start, out)) for a, r in who]
    for process in processes:
        process.start()
    start.set()
    claimed: dict[tuple[str, str], list[float]] = {}
    for _ in processes:
        account, region, slots = out.get(timeout=60)
        claimed.setdefault((account, region), []).extend(slots)
    for process in processes:
        process.join(10)
    return claimed


def test_processes_of_one_account_and_region_take_turns(tmp_path):
    interval = LookupPacer().interval
    claimed = _claims_from_processes(tmp_path, [(ACCOUNT, REGION)] * 3, count=4)
    slots = sorted(claimed[(ACCOUNT, REGION)])
    assert len(slots) == 12
    assert min(b - a for a, b in zip(slots, slots[1:])) >= interval - 1e-6  # 12 requests: 6.6 s, not 2.2 s
    assert interval >= 0.5


def test_another_account_or_region_has_a_budget_of_its_own(tmp_path):
    """One process books the account and region's next 20 slots (11 s ahead); processes
    for another region and another account started after it get theirs long before
    its last one, where a shared queue would put them after it.  (Processes started
    together need not claim together on a loaded machine: the test does not rely on it.)"""
    interval = LookupPacer().interval
    (booked,) = _claims_from_processes(tmp_path, [(ACCOUNT, REGION)], count=20).values()
    others = _claims_from_processes(tmp_path, [(ACCOUNT, "eu-west-1"), ("210987654321", REGION)], count=3)
    assert len(others) == 2
    for slots in [booked, *others.values()]:
        assert min(b - a for a, b in zip(slots, slots[1:])) >= interval - 1e-6
    for slots in others.values():
        assert slots[0] < booked[-1]  # did not wait behind the booked account and region


def test_a_pacer_without_its_file_still_paces_its_process(tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    pacer = LookupPacer(blocked / "pacer")
    slots = [pacer.claim() for _ in range(3)]
    assert pacer.path is None  # fell back, and said so in the debug log
    assert min(b - a for a, b in zip(slots, slots[1:])) >= pacer.interval - 1e-6
