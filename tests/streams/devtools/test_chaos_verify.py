"""The chaos suite's own judgement: its comparisons, fault plan and input mixing (pure parts)."""

from __future__ import annotations

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.state import readable_state_json, state_to_json
from parcelwatch.schemas.types import DeadLetterReason
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.devtools.chaos.faults import FIRST_FAULT_AT, LAST_FAULT_AT, plan_faults
from parcelwatch.streams.devtools.chaos.invalid_inputs import (
    POISON_SIZES,
    GoodPool,
    generate_bad_messages,
    interleave,
    poison_messages,
)
from parcelwatch.streams.devtools.chaos.outputs import Outputs
from parcelwatch.streams.devtools.chaos.verify import (
    compare_outputs,
    compare_runs,
    compare_states,
    compare_told,
    notification_told_later,
)
from parcelwatch.streams.devtools.chaos.workload import Workload
from tests.factories import T0, TRACKING, order, scan


def alert(alert_id: str, message: str = "m", detected_at: str = "t1") -> dict:
    return {"alert_id": alert_id, "message": message, "detected_at": detected_at}


def test_outputs_lost_extra_redelivered_and_different_payloads_are_told_apart():
    reference = [alert("a"), alert("b"), alert("c")]
    run = [
        alert("a", detected_at="t2"),  # a processing time differs: the same alert
        alert("a", detected_at="t3"),  # redelivered
        alert("c", message="other"),  # same id, other payload
        alert("x"),  # never in the reference
    ]
    result = compare_outputs(reference, run, "alert_id")
    assert result.lost == ["b"]
    assert result.extra == ["x"]
    assert result.redelivered == {"a": 2}
    assert result.different == ["c"]
    assert not result.ok
    assert compare_outputs(reference, [*reference, alert("a")], "alert_id").ok  # redelivery is ok


def notice(created_at: str, expected: str | None, message: str, **other: str) -> dict:
    return {
        "notification_id": "n1",
        "created_at": created_at,
        "expected_delivery": expected,
        "expected_delivery_source": "promise" if expected else None,
        "message": message,
        **other,
    }


def test_a_notification_written_after_the_date_it_told_passed_is_told_later_not_different():
    promise = "2026-12-03T04:59:59Z"  # 23:59:59 in New York
    first = notice("2026-12-03T04:59:50Z", promise, "Expected by Wednesday")
    after_the_promise = notice("2026-12-03T05:00:20Z", None, "On its way")
    result = compare_outputs([first], [after_the_promise], "notification_id",
                             told_later=notification_told_later)  # fmt: skip
    assert result.told_later == ["n1"] and result.different == [] and result.ok
    assert result.summary()["told_later"] == 1
    # Without the clock's excuse the same pair is different...
    assert compare_outputs([first], [after_the_promise], "notification_id").different == ["n1"]
    # ... and so is a copy written before the date passed, or one differing elsewhere.
    before = notice("2026-12-03T04:59:55Z", None, "On its way")
    assert not notification_told_later(first, before)
    elsewhere = notice("2026-12-03T05:00:20Z", None, "On its way", status="delivered")
    assert not notification_told_later(first, elsewhere)
    undated = notice("2026-12-03T04:59:50Z", None, "On its way")
    assert not notification_told_later(undated, notice("2026-12-03T05:00:20Z", None, "Hi"))


def replayed(*events):
    state = None
    for event in events:
        state = apply_event(state, event, T0).state
    return state


def test_a_state_missing_its_last_inputs_is_reported_as_not_applied_and_different():
    events = [order(), scan("picked_up", 1, "s1"), scan("in_transit", 2, "s2")]
    expected = {TRACKING: replayed(*events)}
    ids = {TRACKING: [event.event_id for event in events]}
    short = state_to_json(replayed(*events[:2]))
    result = compare_states({TRACKING: short}, expected, ids)
    assert result.not_applied == [f"{TRACKING}/s2"]
    assert dict(result.not_applied_where) == {"last": 1}
    assert "tracking.status" in result.different[TRACKING]
    assert compare_states({TRACKING: state_to_json(expected[TRACKING])}, expected, ids).ok


def test_the_same_inputs_applied_in_another_order_are_out_of_order():
    events = [order(), scan("picked_up", 1, "s1"), scan("in_transit", 2, "s2")]
    expected = {TRACKING: replayed(*events)}
    ids = {TRACKING: [event.event_id for event in events]}
    swapped = state_to_json(replayed(events[0], events[2], events[1]))
    result = compare_states({TRACKING: swapped}, expected, ids)
    assert result.out_of_order == [TRACKING]
    assert not result.not_applied


def test_processing_time_fields_do_not_make_states_differ():
    state = readable_state_json(replayed(order(), scan("picked_up", 1, "s1")))
    timer = {"next_check_at": "2030-01-01T00:00:00+00:00", "home_partition": 3}
    later = {**state, "timer": timer}
    assert compare_runs({TRACKING: state}, {TRACKING: later}) == {}
    moved = {**later, "tracking": {**later["tracking"], "status": "delivered"}}
    assert compare_runs({TRACKING: state}, {TRACKING: moved}) == {TRACKING: ["tracking.status"]}


def test_when_a_worker_raised_or_published_something_does_not_make_states_differ():
    state = readable_state_json(replayed(order(), scan("exception", 1, "s1", reason="damaged")))
    (entry,) = state["outputs"]["alert_log"]
    sent = {"kind": "shipped", "milestone": "shipped", "notification_id": "n1"}
    logs = {
        "alert_log": [{**entry, "raised_at": "2030-01-01T00:00:00+00:00"}],
        "notification_log": [{**sent, "sent_at": "2030-01-01T00:00:00+00:00"}],
    }
    first = {**state, "outputs": {**state["outputs"], "notification_log": [
        {**sent, "sent_at": "2026-01-01T00:00:00+00:00"}
    ]}}  # fmt: skip
    later = {**state, "outputs": {**state["outputs"], **logs}}
    assert compare_runs({TRACKING: first}, {TRACKING: later}) == {}
    older = {**entry, "alert_id": "older", "occurred_at": "2020-01-01T00:00:00+00:00"}
    reordered = [{**entry, "raised_at": "2030-01-02T00:00:00+00:00"}, older]
    first = {**first, "outputs": {**first["outputs"], "alert_log": [older, entry]}}
    swapped = {**later, "outputs": {**later["outputs"], "alert_log": reordered}}
    assert compare_runs({TRACKING: first}, {TRACKING: swapped}) == {}  # raised in another order
    later = {**later, "outputs": {**later["outputs"], "alert_log": [older, entry]}}
    other = {**later["outputs"], "alert_log": [{**entry, "alert_id": "another"}]}
    assert compare_runs({TRACKING: first}, {TRACKING: {**later, "outputs": other}}) == {
        TRACKING: ["outputs.alert_log"]
    }


def test_fault_plan_is_seeded_spread_and_alternates_empty_and_kept_disks():
    plan = plan_faults(kills=5, broker_restarts=1, seed=7)
    assert plan == plan_faults(kills=5, broker_restarts=1, seed=7)
    assert [fault.kind for fault in plan].count("broker_restart") == 1
    moments = [fault.at_fraction for fault in plan]
    assert moments == sorted(moments)
    assert moments[0] >= FIRST_FAULT_AT and moments[-1] <= LAST_FAULT_AT
    kills = [fault for fault in plan if fault.kind == "kill"]
    assert [fault.empty_data_dir for fault in kills] == [True, False, True, False, True]


def test_interleaving_keeps_the_good_order_and_every_bad_item():
    good, bad = list(range(50)), ["a", "b", "c", "d"]
    mixed = interleave(good, bad, seed_value=3, salt="scans")
    assert [item for is_bad, item in mixed if not is_bad] == good
    assert sorted(item for is_bad, item in mixed if is_bad) == bad
    assert mixed == interleave(good, bad, seed_value=3, salt="scans")


def small_pool():
    workload = Workload.simulate(20, seed=5)
    return GoodPool(
        orders=tuple(to_jsonable(event.event) for event in workload.orders),
        scans=tuple(to_jsonable(event.event) for event in workload.scans),
        now=workload.generated_at,
    )


def test_generated_invalid_messages_are_seeded_and_cover_every_input_topic():
    pool = small_pool()
    messages = generate_bad_messages(pool, 150, seed_value=11)
    assert len(messages) == 150
    assert len({(m.topic_kind, m.key, m.value) for m in messages}) == 150
    assert messages == generate_bad_messages(pool, 150, seed_value=11)
    assert {m.topic_kind for m in messages} == {"orders", "scans", "checks"}
    reasons = {m.expected_reason for m in messages}
    assert reasons <= {reason.value for reason in DeadLetterReason} - {"processing_error"}
    assert len(reasons) >= 8


def test_poison_has_every_size_as_key_and_as_value_on_every_input_topic():
    poison = poison_messages(small_pool(), seed_value=1)
    for kind in ("orders", "scans", "checks"):
        of_kind = [m for m in poison if m.topic_kind == kind]
        assert sorted(len(m.key or b"") for m in of_kind if m.flaw.startswith("poison_key")) == (
            sorted(POISON_SIZES)
        )
        assert sorted(len(m.value) for m in of_kind if m.flaw.startswith("poison_value")) == (
            sorted(POISON_SIZES)
        )


def test_a_compact_state_and_its_readable_form_compare_equal_field_by_field():
    state = replayed(order(), scan("exception", 1, "s1", reason="damaged"))
    compact, readable = state_to_json(state), readable_state_json(state)
    assert compare_runs({TRACKING: compact}, {TRACKING: readable}) == {}
    moved = readable_state_json(replayed(order(), scan("delivered", 1, "s1")))
    assert "tracking.status" in compare_runs({TRACKING: compact}, {TRACKING: moved})[TRACKING]


def test_alerts_and_notifications_are_compared_by_their_own_ids():
    def outputs(alert_ids: list[str], notification_ids: list[str]) -> Outputs:
        return Outputs(
            alerts=[alert(alert_id) for alert_id in alert_ids],
            notifications=[{"notification_id": nid, "text": "t"} for nid in notification_ids],
            dead_letters=[],
            states={},
            unreadable=0,
        )

    told = compare_told(outputs(["a", "b"], ["n1"]), outputs(["a"], ["n1", "n1", "n2"]))
    assert told["alerts"].lost == ["b"] and not told["alerts"].extra
    assert told["notifications"].extra == ["n2"] and told["notifications"].redelivered == {"n1": 2}
