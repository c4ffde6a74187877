"""The silence timer's pure parts: which stored shipments are due, and not asking twice.

The live loop (``CheckSweeper``) and when it may run (``sweep_blocker``) are in
test_check_sweeper.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from parcelwatch.schemas.state import (
    NESTED_STATE_VERSION,
    ShipmentState,
    TimerSchedule,
    state_to_json,
)
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.streams.runtime.timers import CheckRequests, due_check, due_for_check
from tests.factories import at

NOW = at(10)  # 2026-11-20T19:00:00Z
RETRY = timedelta(minutes=5)


def stored(next_check_at: str | None, home_partition: int | None = None) -> dict:
    """A table value as the sweep reads it (only the fields the timer looks at matter)."""
    due = None if next_check_at is None else parse_rfc3339(next_check_at)
    timer = TimerSchedule(next_check_at=due, home_partition=home_partition)
    return state_to_json(ShipmentState(tracking_number="ignored", timer=timer))


def nested_stored(next_check_at: str | None, home_partition: int | None = None) -> dict:
    """A table value written by a version 3 worker (the timer in its own part)."""
    timer = {"next_check_at": next_check_at, "home_partition": home_partition}
    return {"tracking_number": "ignored", "timer": timer, "state_version": NESTED_STATE_VERSION}


def flat_stored(next_check_at: str | None, **fields) -> dict:
    """A table value written by a version 2 worker, still in the table after an upgrade."""
    return {"tracking_number": "ignored", "next_check_at": next_check_at, **fields}


def due(rows, now, requests) -> list[tuple[str, str]]:
    """(tracking number, due time) of each row ``due_check`` asks a check for, in row order."""
    checks = (due_check(tracking_number, value, now, requests) for tracking_number, value in rows)
    return [(check.tracking_number, check.due) for check in checks if check is not None]


@pytest.mark.parametrize(
    ("next_check_at", "due"),
    [
        ("2026-11-20T18:59:59+00:00", True),
        ("2026-11-20T19:00:00+00:00", True),  # due exactly now
        ("2026-11-20T19:00:01+00:00", False),
        ("2026-11-20T20:00:00+01:00", True),  # the same instant written in another offset
        ("2026-11-20T15:00:01-04:00", False),
        (None, False),
    ],
)
def test_due_for_check_compares_instants(next_check_at, due):
    assert due_for_check(stored(next_check_at), NOW) is due


def test_state_without_next_check_field_is_never_due():
    assert due_for_check({"tracking_number": "T1"}, NOW) is False  # a version 1 state


@pytest.mark.parametrize("write", [stored, nested_stored])
def test_the_due_time_reads_back_as_written_whatever_the_version(write):
    written = "2026-11-20T14:00:00.250000-04:00"  # an offset and a fraction: both kept
    check = due_check("T1", write(written, home_partition=5), NOW, CheckRequests(RETRY))
    assert check is not None and (check.due, check.partition) == (written, 5)


def test_flat_state_of_version_2_is_read_too():
    assert due_for_check(flat_stored("2026-11-20T18:59:59+00:00"), NOW) is True
    assert due_for_check(flat_stored("2026-11-20T19:00:01+00:00"), NOW) is False


def test_only_due_rows_are_checked_with_their_due_time():
    rows = [
        ("T1", stored("2026-11-20T18:00:00+00:00")),
        ("T2", stored("2026-11-21T18:00:00+00:00")),
        ("T3", stored(None)),
        ("T4", stored("2026-11-20T19:00:00+00:00")),
    ]
    assert due(rows, NOW, CheckRequests(RETRY)) == [
        ("T1", "2026-11-20T18:00:00+00:00"),
        ("T4", "2026-11-20T19:00:00+00:00"),
    ]


def test_due_check_does_not_record_anything_by_itself():
    rows = [("T1", stored("2026-11-20T18:00:00+00:00"))]
    requests = CheckRequests(RETRY)
    assert due(rows, NOW, requests) == due(rows, NOW, requests)
    assert due(rows, NOW, requests) == [("T1", "2026-11-20T18:00:00+00:00")]


def test_due_check_is_addressed_to_the_partition_the_state_lives_on():
    rows = [
        ("T1", stored("2026-11-20T18:00:00+00:00", home_partition=7)),
        ("T2", flat_stored("2026-11-20T18:00:00+00:00")),  # written before home_partition
        ("T3", flat_stored("2026-11-20T18:00:00+00:00", home_partition=2)),  # version 2
    ]
    checks = [
        due_check(tracking_number, value, NOW, CheckRequests(RETRY))
        for tracking_number, value in rows
    ]
    assert [(check.tracking_number, check.partition) for check in checks] == [
        ("T1", 7),
        ("T2", None),
        ("T3", 2),
    ]


def test_check_in_flight_is_not_asked_again_for_the_same_due_time():
    rows = [("T1", stored("2026-11-20T18:00:00+00:00"))]
    requests = CheckRequests(RETRY)
    requests.asked("T1", "2026-11-20T18:00:00+00:00", NOW)
    assert due(rows, NOW + timedelta(seconds=30), requests) == []
    assert due(rows, NOW + RETRY - timedelta(seconds=1), requests) == []


def test_check_is_asked_again_after_retry_after_if_nothing_moved():
    requests = CheckRequests(RETRY)
    requests.asked("T1", "2026-11-20T18:00:00+00:00", NOW)
    assert requests.should_ask("T1", "2026-11-20T18:00:00+00:00", NOW + RETRY) is True
    rows = [("T1", stored("2026-11-20T18:00:00+00:00"))]
    assert due(rows, NOW + RETRY, requests) == [("T1", "2026-11-20T18:00:00+00:00")]


def test_new_due_time_is_asked_at_once():
    requests = CheckRequests(RETRY)
    requests.asked("T1", "2026-11-20T18:00:00+00:00", NOW)
    rows = [("T1", stored("2026-11-20T18:30:00+00:00"))]  # the check moved next_check_at
    assert due(rows, NOW + timedelta(seconds=1), requests) == [("T1", "2026-11-20T18:30:00+00:00")]


def test_asking_for_one_shipment_does_not_hold_back_another():
    requests = CheckRequests(RETRY)
    requests.asked("T1", "2026-11-20T18:00:00+00:00", NOW)
    assert requests.should_ask("T2", "2026-11-20T18:00:00+00:00", NOW) is True
    assert requests.should_ask("T1", "2026-11-20T18:00:00+00:00", NOW) is False


def test_forget_all_but_drops_shipments_no_longer_in_the_local_partitions():
    requests = CheckRequests(RETRY)
    for tracking_number in ("T1", "T2", "T3"):
        requests.asked(tracking_number, "2026-11-20T18:00:00+00:00", NOW)
    requests.forget_all_but({"T2", "T9"})
    assert requests.should_ask("T1", "2026-11-20T18:00:00+00:00", NOW) is True
    assert requests.should_ask("T2", "2026-11-20T18:00:00+00:00", NOW) is False
    assert requests.should_ask("T3", "2026-11-20T18:00:00+00:00", NOW) is True
    assert requests.should_ask("T9", "2026-11-20T18:00:00+00:00", NOW) is True
