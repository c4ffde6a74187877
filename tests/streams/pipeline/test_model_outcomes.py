"""Outcome records on model-outcomes: once per scored shipment and moment, when its outcome is
known, before the state that remembers them."""

from __future__ import annotations

import math
from dataclasses import replace

import orjson

from parcelwatch.schemas.codec import NO_MESSAGE_KEY, decode_model_outcome
from parcelwatch.schemas.state import readable_stored
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import Limits
from tests.factories import TRACKING, at, order, scan
from tests.streams.pipeline.test_processing import TOPICS, FakeScorer, message, scoring_env

JOURNEY = [
    order(72),
    scan("info_received", 0, "j0"),
    scan("picked_up", 1, "j1"),  # risk 0.1: the pickup moment
    scan("exception", 40, "j2", reason="weather_delay"),  # risk 0.9, alert; before the cut-off
    scan("in_transit", 60, "j3"),  # risk 0.1, after the cut-off (72 - 24 = 48 h)
]


def outcomes(broker):
    return broker.on(TOPICS.model_outcomes)


async def run(events, *, batch=False, scorer=None):
    processor, broker, store = scoring_env(FakeScorer() if scorer is None else scorer)
    messages = [message(event) for event in events]
    if batch:
        await processor.process_batch(messages)
    else:
        for item in messages:
            await processor.process(item)
    return broker, store


async def test_a_late_delivery_gives_one_record_per_moment():
    broker, store = await run([*JOURNEY, scan("delivered", 80, "j4")])

    by_moment = {record["moment"]: record for record in outcomes(broker)}
    assert set(by_moment) == {"pickup", "promise_minus_24h"}
    assert by_moment["pickup"]["risk"] == 0.1
    assert by_moment["promise_minus_24h"]["risk"] == 0.9
    for record in by_moment.values():
        assert record["late"] is True and record["alerted"] is True
        assert record["model_version"] == "v-test"
        assert parse_rfc3339(record["decided_at"]) == at(80)  # the delivery's event time
        assert (record["carrier"], record["service_level"]) == ("ups", "ground")
        assert TRACKING not in orjson.dumps(record).decode()  # names no shipment
        decode_model_outcome(orjson.dumps(record), key=NO_MESSAGE_KEY, now=at(500),
                             limits=Limits())  # fmt: skip
    assert {key for topic, key, _, _ in broker.sent if topic == TOPICS.model_outcomes} == {
        b"v-test"
    }
    assert readable_stored(store[TRACKING])["outputs"]["outcome_recorded"] is True


async def test_an_on_time_delivery_is_not_late():
    broker, _ = await run([order(72), scan("picked_up", 1, "p1"), scan("delivered", 30, "d1")])
    records = outcomes(broker)  # the one scored scan is both moments
    assert [record["moment"] for record in records] == ["pickup", "promise_minus_24h"]
    assert all(record["late"] is False and record["alerted"] is False for record in records)


async def test_redelivery_and_more_scans_send_nothing_twice():
    delivered = scan("delivered", 80, "j4")
    broker, _ = await run([*JOURNEY, delivered, delivered, scan("delivered", 81, "j5")])
    assert len(outcomes(broker)) == 2


async def test_a_broken_promise_without_delivery_decides_the_outcome():
    broker, _ = await run([*JOURNEY, scan("in_transit", 75, "j4"), scan("in_transit", 90, "j5")])
    records = outcomes(broker)
    assert len(records) == 2
    # decided by the first scan after the promise (72 h), not a later one
    assert all(r["late"] and parse_rfc3339(r["decided_at"]) == at(75) for r in records)


async def test_a_batch_sends_what_one_message_at_a_time_sends():
    events = [*JOURNEY, scan("delivered", 80, "j4")]
    one, one_store = await run(events)
    many, many_store = await run(events, batch=True)
    assert outcomes(one) == outcomes(many)
    assert one_store == many_store


class ClockScorer(FakeScorer):
    """Risk = hours since T0 / 100: every scan's risk is its own."""

    def score(self, rows, as_of):
        return [
            replace(estimate, risk=(moment - at(0)).total_seconds() / 360_000)
            for estimate, moment in zip(super().score(rows, as_of), as_of, strict=True)
        ]


async def test_the_records_do_not_depend_on_where_batches_end():
    events = [
        order(72),
        scan("info_received", 0, "c0"),
        scan("picked_up", 1, "c1"),  # risk 0.01: both moments so far
        scan("in_transit", 75, "c2"),  # after the promise: the outcome is known (late)
        scan("exception", 40, "c3", reason="weather_delay"),  # arrives late, before the cut-off
        scan("in_transit", 90, "c4"),
    ]
    one, one_store = await run(events, scorer=ClockScorer())
    many, many_store = await run(events, batch=True, scorer=ClockScorer())
    records = outcomes(one)
    assert [(r["moment"], r["risk"], r["late"]) for r in records] == [
        ("pickup", 0.01, True),
        ("promise_minus_24h", 0.01, True),  # the late scan's 0.40 came after the outcome
    ]
    assert {parse_rfc3339(r["decided_at"]) for r in records} == {at(75)}  # not the batch's last
    assert outcomes(many) == records
    assert one_store == many_store


class PromiseScorer(FakeScorer):
    """Risk 0.7 when the row knows the promise, else 0.2."""

    def score(self, rows, as_of):
        return [
            replace(estimate, risk=0.2 if math.isnan(row["hours_to_promise"]) else 0.7)
            for estimate, row in zip(super().score(rows, as_of), rows, strict=True)
        ]


async def test_an_order_read_after_its_scans_has_them_scored_with_the_promise():
    events = [scan("picked_up", 1, "o1"), order(72), scan("delivered", 80, "o2")]
    one, one_store = await run(events, scorer=PromiseScorer())
    many, many_store = await run(events, batch=True, scorer=PromiseScorer())
    records = outcomes(one)
    # Not the promise-less 0.2 the scan got first: the order's score, as of that scan.
    assert [(r["moment"], r["risk"], r["late"]) for r in records] == [
        ("pickup", 0.7, True),
        ("promise_minus_24h", 0.7, True),
    ]
    alerts = [(a["kind"], a["source_event_id"]) for a in one.on(TOPICS.shipment_alerts)]
    assert alerts == [("delay_risk", "order-1")]  # raised by the order, which told the promise
    assert (outcomes(many), many.on(TOPICS.shipment_alerts)) == (
        records,
        one.on(TOPICS.shipment_alerts),
    )
    assert one_store == many_store


async def test_without_a_model_nothing_is_recorded_and_a_later_model_judges_nothing():
    processor, broker, store = scoring_env(None)
    for event in [*JOURNEY, scan("delivered", 80, "j4")]:
        await processor.process(message(event))
    assert outcomes(broker) == []
    # Decided, with no record: a risk issued after the outcome was known must never count.
    assert readable_stored(store[TRACKING])["outputs"]["outcome_recorded"] is True

    later, later_broker, _ = scoring_env(FakeScorer(), store)  # the same shipment, a model now
    await later.process(message(scan("delivered", 81, "j5")))
    assert outcomes(later_broker) == []


async def test_outcomes_are_not_known_while_the_promise_holds():
    broker, store = await run(JOURNEY)
    assert outcomes(broker) == []
    assert readable_stored(store[TRACKING])["outputs"]["outcome_recorded"] is False
