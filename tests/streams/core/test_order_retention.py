"""Retention of an order's rows: when the ``~order~`` index and the ``~return~`` row may go."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from parcelwatch.schemas.order_state import LinkedShipment, OrderFeedbackState, WaitingFeedback
from parcelwatch.schemas.returns import ReturnEventType as T
from parcelwatch.streams.core.retention import (
    OrderRows,
    RetentionPolicy,
    order_retire_at,
    order_retirement,
    return_settled_at,
)
from parcelwatch.streams.core.returns import ReturnPolicy, ReturnState, apply_return_event
from tests.factories import at
from tests.feedback_factories import analysis, feedback
from tests.return_factories import ORDER_ID, return_step

POLICY = RetentionPolicy(
    retention=timedelta(days=30), retired_memory=timedelta(days=180),
    expired_after=timedelta(days=20),
)  # fmt: skip
RETURNS = ReturnPolicy()
DAY = 24.0  # hours


def journey(*steps: tuple[T, float]) -> ReturnState:
    state = None
    for number, (kind, hours) in enumerate(steps):
        state = apply_return_event(state, return_step(kind, at(hours), f"r-{number}"), at(0)).state
    assert state is not None
    return state


def index(changed_hours: float | None, **fields) -> OrderFeedbackState:
    changed = None if changed_hours is None else at(changed_hours)
    return OrderFeedbackState(ORDER_ID, changed_at=changed, **fields)


def test_a_return_settles_when_refunded_or_cancelled_and_an_owed_refund_keeps_it():
    assert return_settled_at(journey((T.RETURN_REQUESTED, 1)), RETURNS) is None
    refunded = journey((T.RETURN_REQUESTED, 1), (T.REFUND_ISSUED, 50))
    assert return_settled_at(refunded, RETURNS) == at(50)
    cancelled = journey((T.RETURN_REQUESTED, 1), (T.RETURN_CANCELLED, 9))
    assert return_settled_at(cancelled, RETURNS) == at(9)
    failed = journey((T.RETURN_REQUESTED, 1), (T.REFUND_ISSUED, 50), (T.REFUND_FAILED, 60))
    assert return_settled_at(failed, RETURNS) is None  # the refund is owed again
    owed = replace(journey((T.RETURN_REQUESTED, 1)), received_at=at(40))
    assert return_settled_at(owed, RETURNS) is None


def test_a_refunded_return_whose_parcel_still_travels_is_not_settled():
    travelling = replace(
        journey((T.RETURN_REQUESTED, 1), (T.REFUND_ISSUED, 50)),
        return_tracking_number="RT1", in_transit_at=at(48), last_parcel_scan_at=at(48),
    )  # fmt: skip
    assert return_settled_at(travelling, RETURNS) is None  # its stalled check is still ahead


def test_an_order_goes_a_retention_after_its_latest_settled_part():
    now = at(5 * DAY)
    refunded = journey((T.RETURN_REQUESTED, 1), (T.REFUND_ISSUED, 3 * DAY))
    rows = OrderRows(index(2 * DAY), refunded)
    assert order_retire_at(rows, now, POLICY, RETURNS) == at(3 * DAY) + POLICY.retention
    only_index = OrderRows(index(2 * DAY))
    assert order_retire_at(only_index, now, POLICY, RETURNS) == at(2 * DAY) + POLICY.retention
    only_return = OrderRows(returned=refunded)
    assert order_retire_at(only_return, now, POLICY, RETURNS) == at(3 * DAY) + POLICY.retention
    assert order_retire_at(OrderRows(), now, POLICY, RETURNS) is None  # nothing to remove


def test_waiting_feedback_or_an_open_return_keeps_the_order():
    now = at(5 * DAY)
    item = WaitingFeedback(feedback(), analysis(), "rules", wait_until=at(9 * DAY))
    assert order_retire_at(OrderRows(index(1, waiting=(item,))), now, POLICY, RETURNS) is None
    assert order_retire_at(OrderRows(index(1, forwarded=(item,))), now, POLICY, RETURNS) is None
    open_return = journey((T.RETURN_REQUESTED, 1))
    assert order_retire_at(OrderRows(index(1), open_return), now, POLICY, RETURNS) is None


def test_shipments_held_here_are_read_and_others_are_given_the_silence_horizon():
    now = at(5 * DAY)
    linked = (LinkedShipment("1ZA", 0),)
    settled = OrderRows(index(2 * DAY, shipments=linked), local=(at(4 * DAY),))
    assert order_retire_at(settled, now, POLICY, RETURNS) == at(4 * DAY) + POLICY.retention
    still_open = OrderRows(index(2 * DAY, shipments=linked), local=(None,))
    assert order_retire_at(still_open, now, POLICY, RETURNS) == now + POLICY.retention
    elsewhere = OrderRows(index(2 * DAY, shipments=linked), remote=True)
    expected = at(2 * DAY) + POLICY.expired_after + POLICY.retention
    assert order_retire_at(elsewhere, now, POLICY, RETURNS) == expected


def test_an_index_from_before_its_clock_counts_from_now():
    now = at(5 * DAY)
    assert order_retire_at(OrderRows(index(None)), now, POLICY, RETURNS) == now + POLICY.retention


def test_the_marker_comes_at_the_end_and_not_before():
    rows = OrderRows(index(2 * DAY), journey((T.RETURN_REQUESTED, 1), (T.REFUND_ISSUED, 3 * DAY)))
    end = at(3 * DAY) + POLICY.retention
    assert order_retirement(rows, end - timedelta(seconds=1), POLICY, RETURNS, 1) is None
    marker = order_retirement(rows, end, POLICY, RETURNS, 1)
    assert marker is not None
    assert (marker.settled_at, marker.retired_at) == (at(3 * DAY), end)
    assert (marker.forget_at, marker.home_partition) == (end + POLICY.retired_memory, 1)
