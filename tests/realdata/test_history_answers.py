"""The lookup answer and the tracking page for every shipment of the vendored public histories
(USAID SCMS, DataCo), asked about after the order, midway, an hour past a missed promise and
after the delivery, by customers writing en, de or fr on five clocks.

Expectations come from each shipment's own dates (its order, promise and delivery), never from
a list of outputs."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from parcelwatch.schemas.lookup import ShipmentAnswer, Situation
from parcelwatch.schemas.state import MAX_RECENT_SCANS, ShipmentState
from parcelwatch.schemas.types import ShipmentStatus
from parcelwatch.streams.core.answers import build_answer
from parcelwatch.streams.core.tracking_page import render_tracking_page
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from parcelwatch.streams.message_templates.page_labels import load_page_labels
from tests.realdata.histories import (
    ASKED_AFTER,
    LOCALES,
    TABLES,
    ZONES,
    Stream,
    midway,
    streams,
    undelivered_past_promise,
)
from tests.realdata.pages import assert_sound_page, served
from tests.realdata.written_dates import assert_names_the_local_delivery

TEMPLATES = load_answer_templates()
WORDS = load_page_labels()
EVERY_NTH_VALIDATED = 40  # jsonschema and the page parser are slow: a fixed sample of streams
S = Situation


@dataclass(frozen=True, slots=True)
class Asked:
    stream: Stream
    moment: str  # ordered, midway, past_promise, past_promise_unshipped, delivered
    state: ShipmentState
    now: datetime
    answer: ShipmentAnswer


def _asked(stream: Stream) -> list[Asked]:
    shipment = stream.shipment
    moments = [
        ("ordered", stream.labelled, shipment.ordered_at + timedelta(minutes=1)),
        ("midway", stream.moving, midway(shipment)),
        ("delivered", stream.delivered, shipment.delivered_at + ASKED_AFTER),
    ]
    if undelivered_past_promise(shipment):
        after = shipment.promised_by + ASKED_AFTER
        moments += [("past_promise", stream.moving, after)]
        moments += [("past_promise_unshipped", stream.labelled, after)]
    return [
        Asked(stream, name, state, now, build_answer(state, now, TEMPLATES, stream.zone))
        for name, state, now in moments
    ]


@pytest.fixture(scope="module", params=sorted(TABLES))
def asked(request) -> list[Asked]:
    return [one for stream in streams(request.param) for one in _asked(stream)]


def test_every_locale_and_zone_is_asked_and_some_journeys_cross_a_dst_change(asked):
    pairs = Counter((one.stream.locale, one.stream.zone.key) for one in asked)
    assert set(pairs) == {(locale, zone) for locale in LOCALES for zone in ZONES}
    crossing = [
        one
        for one in asked
        if one.moment == "delivered"
        and one.stream.zone.utcoffset(one.stream.shipment.ordered_at.replace(tzinfo=None))
        != one.stream.zone.utcoffset(one.now.replace(tzinfo=None))
    ]
    assert {one.stream.zone.key for one in crossing} >= {
        "America/Los_Angeles", "Europe/Berlin", "Australia/Sydney", "Pacific/Chatham",
    }  # fmt: skip


def test_the_situation_follows_the_shipments_own_dates(asked):
    for one in asked:
        shipment, situation = one.stream.shipment, one.answer.situation
        delivered = one.answer.status is ShipmentStatus.DELIVERED
        assert (situation is S.DELIVERED) == delivered, one
        if situation is S.RUNNING_LATE:
            assert not delivered and one.now > shipment.promised_by, one
        expected = {
            "ordered": S.NOT_SHIPPED,
            "past_promise_unshipped": S.NOT_SHIPPED,
            "midway": S.RUNNING_LATE if one.now > shipment.promised_by else S.IN_TRANSIT,
            "past_promise": S.RUNNING_LATE,
            "delivered": S.DELIVERED,
        }[one.moment]
        assert situation is expected, one


def test_the_late_answers_add_up_to_the_datas_own_late_labels(asked):
    counted = Counter((one.moment, one.answer.situation) for one in asked)
    shipments = {one.stream.shipment for one in asked}
    late = [shipment for shipment in shipments if shipment.late]
    asked_late = [shipment for shipment in late if undelivered_past_promise(shipment)]
    # Every shipment the data says came after its promise, asked about an hour past the promise
    # while still on its way, is running late; the rest of the late ones came within that hour.
    assert counted["past_promise", S.RUNNING_LATE] == len(asked_late)
    assert 0 < len(asked_late) <= len(late) < len(shipments)
    assert counted["delivered", S.DELIVERED] == len(shipments)
    assert sum(n for (moment, _), n in counted.items() if moment == "midway") == len(shipments)


def test_the_text_is_complete_single_spaced_and_names_the_local_delivery_day(asked):
    for one in asked:
        text = one.answer.answer
        assert text == text.strip() and "  " not in text, text
        assert "$" not in text and not re.search(r"\b(None|null)\b", text), text
        assert one.answer.locale == one.stream.locale[:2]
        if one.moment == "past_promise_unshipped":  # still with the shop: how many days late
            zone, promised = one.stream.zone, one.stream.shipment.promised_by
            late = (one.now.astimezone(zone).date() - promised.astimezone(zone).date()).days
            assert re.search(rf"\b{max(1, late)}\b", text), text
        if one.answer.situation is S.DELIVERED:
            assert one.answer.delivered_at is not None
            local = one.answer.delivered_at.astimezone(one.stream.zone)
            assert_names_the_local_delivery(one.answer.locale, text, local)


def test_the_timeline_is_oldest_first_bounded_and_ends_at_the_status(asked):
    for one in asked:
        timeline = one.answer.timeline
        assert 0 < len(timeline) <= MAX_RECENT_SCANS
        times = [entry.occurred_at for entry in timeline]
        assert times == sorted(times)
        assert timeline[-1].status is one.answer.status


def test_a_sample_encodes_validates_and_renders_as_a_sound_page(asked):
    sample = [one for index, one in enumerate(asked) if index % EVERY_NTH_VALIDATED == 0]
    assert {one.answer.situation for one in sample} >= {
        S.NOT_SHIPPED, S.IN_TRANSIT, S.RUNNING_LATE, S.DELIVERED,
    }  # fmt: skip
    for one in sample:
        document = served(one.answer)
        page = render_tracking_page(document, WORDS.for_locale(document["locale"]), one.stream.zone)
        reading = assert_sound_page(page, document)
        if one.answer.delivered_at is not None:  # the page's delivery card: the same local day
            local = one.answer.delivered_at.astimezone(one.stream.zone)
            assert_names_the_local_delivery(one.answer.locale, reading.by_id["delivered"], local)
