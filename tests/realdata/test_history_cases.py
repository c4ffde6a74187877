"""Support cases for every shipment of the vendored public histories (USAID SCMS, DataCo), looked
for by a timer at the end of the data and a week after each shipment's promise. The histories
hold only delivered shipments, so whether a shipment is still on its way at a moment, and how
late it is, comes from its own dates."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from parcelwatch.schemas.escalations import EscalationReason, Priority
from parcelwatch.schemas.lookup import Situation
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.streams.core.escalations import EscalationPolicy, shipment_cases
from parcelwatch.streams.core.silence import SilencePolicy, check_silence
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from tests.realdata.histories import TABLES, Stream, streams

TEMPLATES = load_answer_templates()
POLICY = EscalationPolicy()
SILENCES = SilencePolicy()
A_WEEK_AFTER = timedelta(days=7)
R = EscalationReason


def looked_at(state: ShipmentState, now: datetime):
    """A timer's look at ``now``: silence alerts first, then the cases they and the state call
    for; and a second look, which must open nothing more."""
    state = check_silence(state, now, SILENCES)[1]
    state, cases = shipment_cases(state, now, POLICY, TEMPLATES)
    assert shipment_cases(state, now, POLICY, TEMPLATES)[1] == ()
    assert shipment_cases(state, now + timedelta(days=30), POLICY, TEMPLATES)[1] == ()
    return cases


def _at(stream: Stream, state: ShipmentState, now: datetime) -> ShipmentState:
    """The state the worker holds at ``now``: delivered once the delivery happened."""
    return stream.delivered if stream.shipment.delivered_at <= now else state


@pytest.mark.parametrize("dataset", sorted(TABLES))
def test_at_the_end_of_the_data_no_delivered_shipment_has_a_case(dataset):
    every = streams(dataset)
    end = max(stream.shipment.delivered_at for stream in every) + timedelta(days=1)
    assert all(looked_at(stream.delivered, end) == () for stream in every)


@pytest.mark.parametrize("dataset", sorted(TABLES))
@pytest.mark.parametrize("journey", ["labelled", "moving"])
def test_a_week_after_the_promise_only_parcels_still_away_are_presumed_lost(dataset, journey):
    lost = set()
    situations: Counter[tuple[str, Situation]] = Counter()
    for stream in streams(dataset):
        shipment = stream.shipment
        now = shipment.promised_by + A_WEEK_AFTER
        cases = looked_at(_at(stream, getattr(stream, journey), now), now)
        if not cases:
            continue
        (case,) = cases
        assert case.reason is R.PARCEL_LOST, case
        assert shipment.delivered_at > now  # undelivered, and long past its promise
        assert now - shipment.promised_by >= POLICY.lost_after_promise
        assert case.priority is Priority.URGENT  # a week past the promise
        assert case.order_id == shipment.shipment_id and case.context.shipment is not None
        situations[journey, case.context.shipment.situation] += 1
        lost.add(shipment)
    still_away = {
        s.shipment
        for s in streams(dataset)
        if s.shipment.delivered_at > s.shipment.promised_by + A_WEEK_AFTER
    }
    # The answer attached says lost when tracking went dead; a stall presumed lost by support
    # still reads as running late to the customer.
    assert {situation for _, situation in situations} <= {Situation.LOST, Situation.RUNNING_LATE}
    if journey == "moving":
        # A picked-up parcel silent for a week past its promise stalled: every one is a case.
        assert lost == still_away
    else:
        # Never handed over: only tracking gone dead (no news for a month) says lost.
        assert lost <= still_away
