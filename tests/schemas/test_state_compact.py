"""State version 4 (schemas/state_compact.py): a faithful round trip of any state, offsets and
microseconds included, in far fewer bytes than version 3."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcelwatch.schemas.state import (
    STATE_VERSION,
    AlertEntry,
    Direction,
    NotificationEntry,
    OrderTerms,
    OutputRecord,
    ReturnOf,
    RiskAtMoment,
    RiskReading,
    ScanRecord,
    ShipmentState,
    TimerSchedule,
    TrackingRecord,
    UnsupportedStateVersion,
    readable_state_json,
    state_from_json,
    state_to_json,
    stored_due,
    stored_timer,
    stored_tracking_number,
)
from parcelwatch.schemas.state_compact import STATUS_CODES, notification_id_of
from parcelwatch.schemas.stored_value import dump_stored, load_stored
from parcelwatch.schemas.types import (
    AlertKind,
    Customer,
    ExceptionReason,
    Item,
    Location,
    NotificationChannel,
    NotificationKind,
    Place,
    PredictedDelivery,
    ShipmentStatus,
)
from tests.benchmarks.bench_state import stored_states

TRACKING_NUMBERS = ("1Z999AA10123456784", "~", "", "9205")
ZONES = (
    UTC,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(seconds=-30)),  # not whole minutes: never parsed, still kept exactly
)


def datetimes(zones: tuple[timezone, ...] = ZONES) -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(zones),
    )


words = st.text(max_size=8)
maybe_words = st.none() | words


@st.composite
def states(draw, zones: tuple[timezone, ...] = ZONES) -> ShipmentState:
    times = datetimes(zones)
    tn = draw(st.sampled_from(TRACKING_NUMBERS))
    # Ids with and without the tracking number in front, and ids that begin with the mark.
    ids = st.builds(str.__add__, st.sampled_from(("", tn, "~", "~~")), words)
    location = st.none() | st.builds(Location, maybe_words, maybe_words, maybe_words, maybe_words)
    # A few locations, so that consecutive scans often share one.
    locations = st.lists(location, min_size=1, max_size=3).flatmap(st.sampled_from)
    scan = st.builds(
        ScanRecord,
        event_id=ids,
        status=st.sampled_from(ShipmentStatus),
        occurred_at=times,
        reason=st.none() | st.sampled_from(ExceptionReason),
        location=locations,
    )
    place = st.builds(Place, maybe_words, maybe_words, maybe_words)
    customer = st.builds(
        Customer,
        id=words,
        locale=maybe_words,
        timezone=maybe_words,
        channels=st.lists(st.sampled_from(NotificationChannel), max_size=2).map(tuple),
    )
    item = st.builds(Item, words, st.integers(0, 999), maybe_words)
    order = st.builds(
        OrderTerms,
        order_id=maybe_words,
        service_level=maybe_words,
        ordered_at=st.none() | times,
        promised_by=st.none() | times,
        origin=st.none() | place,
        destination=st.none() | place,
        customer=st.none() | customer,
        items=st.none() | st.lists(item, max_size=3).map(tuple),
    )
    tracking = st.builds(
        TrackingRecord,
        status=st.none() | st.sampled_from(ShipmentStatus),
        status_reason=st.none() | st.sampled_from(ExceptionReason),
        status_at=st.none() | times,
        first_scan_at=st.none() | times,
        last_scan_at=st.none() | times,
        delivered_at=st.none() | times,
        estimated_delivery=st.none() | times,
        scan_count=st.integers(0, 10**6),
        recent_scans=st.lists(scan, max_size=6).map(tuple),
        exception_count=st.integers(0, 10**6),
        exceptions=st.lists(scan, max_size=3).map(tuple),
    )
    scores = st.floats(allow_nan=False, allow_infinity=False)
    moment = st.builds(RiskAtMoment, scores, words, times)
    risk = st.builds(
        RiskReading,
        score=st.none() | scores,
        model_version=maybe_words,
        predicted_delivery=st.none() | st.builds(PredictedDelivery, times, times, times),
        at_pickup=st.none() | moment,
        before_promise=st.none() | moment,
    )
    kinds = st.sampled_from(AlertKind)
    notification = st.sampled_from(NotificationKind).flatmap(
        lambda kind: st.tuples(st.just(kind), st.sampled_from((kind.value, "delayed/x")) | words)
    )
    notification_entry = st.builds(
        lambda pair, given_id, sent_at: NotificationEntry(
            pair[0], pair[1], given_id or notification_id_of(tn, pair[1]), sent_at
        ),
        notification,
        st.none() | words.filter(bool),  # None: parcelwatch's own id, which is left out
        times,
    )
    texts = st.lists(words, max_size=3).map(tuple)
    outputs = st.builds(
        OutputRecord,
        open_episodes=st.lists(st.tuples(kinds, words), max_size=2).map(tuple),
        notified=texts,
        raised_kinds=st.lists(kinds, max_size=3).map(tuple),
        feedback_ids=texts,
        outcome_recorded=st.booleans(),
        escalated=texts,
        alert_log=st.lists(
            st.builds(AlertEntry, kinds, words, times, st.none() | times), max_size=3
        ).map(tuple),
        notification_log=st.lists(notification_entry, max_size=4).map(tuple),
    )
    timer = st.builds(TimerSchedule, st.none() | times, st.none() | st.integers(0, 1000))
    return ShipmentState(
        tracking_number=tn,
        carrier=draw(maybe_words),
        order=draw(order),
        tracking=draw(tracking),
        risk=draw(risk),
        outputs=draw(outputs),
        timer=draw(timer),
        seen_event_ids=tuple(draw(st.lists(ids, max_size=6))),
        direction=draw(st.sampled_from(Direction)),
        return_of=draw(st.none() | st.builds(ReturnOf, words, st.integers(0, 99), times)),
    )


def through_the_changelog(state: ShipmentState) -> ShipmentState:
    return state_from_json(load_stored(dump_stored(state_to_json(state))))


@settings(max_examples=150, deadline=None)
@given(states())
def test_any_state_survives_the_round_trip_exactly(state):
    restored = through_the_changelog(state)
    assert restored == state
    # Equality of datetimes ignores offsets; the readable form spells them out.
    assert readable_state_json(restored) == readable_state_json(state)


@settings(max_examples=50, deadline=None)
@given(states())
def test_the_sweep_reads_the_timer_without_decoding_the_rest(state):
    stored = orjson.loads(orjson.dumps(state_to_json(state)))
    due, partition = stored_timer(stored)
    expected = state.timer.next_check_at
    assert due == (None if expected is None else expected.isoformat())
    assert partition == state.timer.home_partition
    assert stored_due(stored) == expected


@settings(max_examples=50, deadline=None)
@given(states(ZONES[:-1]))  # version 3 kept RFC 3339 text: whole-minute offsets
def test_a_version_3_state_reads_the_same_and_is_rewritten_as_version_4(state):
    nested = orjson.loads(orjson.dumps(readable_state_json(state)))
    assert nested["state_version"] == 3
    restored = state_from_json(nested)
    assert restored == state
    assert state_to_json(restored)["v"] == STATE_VERSION


def test_every_status_has_its_own_code_and_no_code_is_a_status_value():
    assert set(STATUS_CODES) == set(ShipmentStatus)
    assert len(set(STATUS_CODES.values())) == len(STATUS_CODES)
    assert not set(STATUS_CODES.values()) & {status.value for status in ShipmentStatus}


def test_defaults_are_left_out():
    assert state_to_json(ShipmentState("1Z1")) == {"v": STATE_VERSION, "tn": "1Z1"}


def test_a_shipment_state_of_any_version_is_told_from_the_tables_other_rows():
    state = ShipmentState("1Z1", carrier="ups")
    assert stored_tracking_number(state_to_json(state)) == "1Z1"
    assert stored_tracking_number(readable_state_json(state)) == "1Z1"
    assert stored_tracking_number({"order_id": "A-1", "state_version": 1}) is None  # an order's
    assert stored_tracking_number({"next_offsets": {"scans": 3}}) is None  # the input ledger's


def test_an_unknown_compact_version_is_refused():
    with pytest.raises(UnsupportedStateVersion):
        state_from_json({"v": STATE_VERSION + 1, "tn": "1Z1"})


def test_the_simulators_mix_stays_under_a_kibibyte_per_shipment_and_a_third_of_version_3():
    stored = stored_states(300, seed=11)
    compact = [len(orjson.dumps(value)) for value in stored.values()]
    nested = [
        len(orjson.dumps(readable_state_json(state_from_json(value)))) for value in stored.values()
    ]
    assert statistics.fmean(compact) <= 1024
    assert sum(compact) * 3 < sum(nested)
