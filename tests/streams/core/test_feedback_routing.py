from datetime import timedelta

from parcelwatch.schemas.order_state import (
    MAX_WAITING_FEEDBACK,
    OrderFeedbackState,
    order_state_from_json,
    order_state_to_json,
)
from parcelwatch.streams.core.feedback_routing import (
    expire_waiting,
    link_shipment,
    receive_feedback,
)
from tests.factories import at
from tests.feedback_factories import ORDER_ID, analysis, feedback, link

WAIT = timedelta(hours=168)


def receive(state, item, hours=100):
    return receive_feedback(state, item, analysis(), "rules-1", now=at(hours), wait=WAIT)


def test_feedback_before_its_order_waits_until_the_first_shipment():
    routed = receive(None, feedback())
    assert routed.forwards == () and routed.unmatched == ()
    assert [item.feedback.event_id for item in routed.state.waiting] == ["fb-1"]
    assert routed.state.timer.next_check_at == at(100) + WAIT

    released = link_shipment(routed.state, link("T1", partition=3))
    assert [(f.shipment.tracking_number, f.shipment.partition) for f in released.forwards] == [
        ("T1", 3)
    ]
    assert released.state.waiting == ()
    assert [item.feedback.event_id for item in released.state.forwarded] == ["fb-1"]


def test_feedback_for_a_known_order_goes_to_every_shipment():
    state = link_shipment(link_shipment(None, link("T1")).state, link("T2", partition=1)).state
    routed = receive(state, feedback())
    assert [f.shipment.tracking_number for f in routed.forwards] == ["T1", "T2"]
    assert routed.state.waiting == ()


def test_feedback_naming_one_shipment_goes_only_there():
    state = link_shipment(link_shipment(None, link("T1")).state, link("T2")).state
    routed = receive(state, feedback(tracking_number="T2"))
    assert [f.shipment.tracking_number for f in routed.forwards] == ["T2"]


def test_feedback_naming_an_unknown_tracking_number_goes_to_the_orders_shipments():
    state = link_shipment(None, link("T1")).state
    routed = receive(state, feedback(tracking_number="TYPO1"))
    assert [f.shipment.tracking_number for f in routed.forwards] == ["T1"]


def test_a_redelivered_feedback_is_a_duplicate_waiting_or_forwarded():
    waiting = receive(None, feedback()).state
    assert receive(waiting, feedback()) is None
    forwarded = receive(link_shipment(None, link()).state, feedback()).state
    assert receive(forwarded, feedback()) is None


def test_a_known_link_changes_nothing():
    state = link_shipment(None, link("T1")).state
    assert link_shipment(state, link("T1")) is None


def test_waiting_feedback_goes_out_unmatched_when_its_wait_is_over():
    state = receive(None, feedback("fb-1"), hours=100).state
    state = receive(state, feedback("fb-2"), hours=110).state
    assert expire_waiting(state, at(100) + WAIT - timedelta(seconds=1)).unmatched == ()
    routed = expire_waiting(state, at(100) + WAIT)
    assert [item.feedback.event_id for item in routed.unmatched] == ["fb-1"]
    assert [item.feedback.event_id for item in routed.state.waiting] == ["fb-2"]
    assert routed.state.timer.next_check_at == at(110) + WAIT


def test_feedback_beyond_the_orders_bound_goes_out_unmatched_at_once():
    state = None
    for number in range(MAX_WAITING_FEEDBACK):
        state = receive(state, feedback(f"fb-{number}")).state
    routed = receive(state, feedback("one-too-many"))
    assert [item.feedback.event_id for item in routed.unmatched] == ["one-too-many"]
    assert len(routed.state.waiting) == MAX_WAITING_FEEDBACK


def test_long_texts_count_against_the_waiting_budget():
    state = receive(None, feedback("fb-1", text="x" * 10_000)).state
    for number in range(2, 11):
        state = receive(state, feedback(f"fb-{number}", text="x" * 10_000)).state
    routed = receive(state, feedback("fb-11", text="x" * 10_000))
    assert [item.feedback.event_id for item in routed.unmatched] == ["fb-11"]


def test_order_state_survives_its_json_round_trip():
    state = receive(None, feedback(tracking_number="T9", rating=2, language="pt-BR")).state
    state = link_shipment(state, link("T1", partition=2)).state
    state = receive(state, feedback("fb-2")).state
    waiting = receive(None, feedback("fb-3")).state
    for original in (state, waiting, OrderFeedbackState(order_id=ORDER_ID)):
        assert order_state_from_json(order_state_to_json(original)) == original


def test_a_shipment_linked_later_gets_the_orders_feedback_once():
    state = link_shipment(None, link("T1")).state
    routed = receive(state, feedback())
    assert [f.shipment.tracking_number for f in routed.forwards] == ["T1"]
    later = link_shipment(routed.state, link("T2", partition=4))
    assert [(f.shipment.tracking_number, f.shipment.partition) for f in later.forwards] == [
        ("T2", 4)
    ]
    assert link_shipment(later.state, link("T2")) is None  # known: nothing sent twice


def test_feedback_naming_a_shipment_is_not_sent_to_its_siblings_linked_later():
    state = link_shipment(None, link("T1")).state
    state = receive(state, feedback(tracking_number="T1")).state
    assert link_shipment(state, link("T2")).forwards == ()


def test_forwarded_feedback_is_forgotten_silently_after_the_wait():
    state = receive(link_shipment(None, link("T1")).state, feedback(), hours=100).state
    assert state.timer.next_check_at == at(100) + WAIT
    routed = expire_waiting(state, at(100) + WAIT)
    assert routed.unmatched == ()
    assert routed.state.forwarded == () and routed.state.timer.next_check_at is None
    assert link_shipment(routed.state, link("T2")).forwards == ()
