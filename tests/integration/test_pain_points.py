"""Pain points on the real broker: tallies in, a summary per closed window and a spike out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.feedback import FeedbackTally, FeedbackTopic, FlagReason
from tests.integration.conftest import BOOTSTRAP, collect

# Past UTC days, so every window is already due when its close request comes.
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DAILY_DAMAGE = {5: 2, 4: 2, 3: 2, 2: 2, 1: 10}  # days ago -> damage complaints; then 5x


def tallies() -> list[FeedbackTally]:
    return [
        FeedbackTally(
            feedback_id=f"fb-{days_ago}-{index}",
            carrier="acme",
            region="SP",
            reason=FlagReason.LOGISTICS_PAIN,
            topics=(FeedbackTopic.DAMAGED,),
            received_at=TODAY - timedelta(days=days_ago) + timedelta(hours=10, minutes=index),
        )
        for days_ago, count in DAILY_DAMAGE.items()
        for index in range(count)
    ]


async def produce_as_one_batch(topic: str, items: list[FeedbackTally]) -> None:
    """All in one record batch (one key, one partition): a close request the worker's timer
    sends meanwhile lands before or after all of them, never between two days."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=500)
    await producer.start()
    try:
        sent = [await producer.send(topic, key=b"acme", value=encode(item)) for item in items]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def daily(values: list[dict]) -> list[dict]:
    return [value for value in values if value["window"]["size"] == "day"]


def test_summaries_for_closed_windows_and_a_spike_for_a_fivefold_day(deployment, workers):
    worker = deployment.start_worker(
        extra_env={
            "PARCELWATCH_PAIN_POINT_GRACE_MINUTES": "0",
            "PARCELWATCH_PAIN_POINT_INTERVAL_SECONDS": "1",
        }
    )
    workers.append(worker)
    topics = deployment.topics
    asyncio.run(produce_as_one_batch(topics.feedback_tallies, tallies()))

    summaries = asyncio.run(
        collect(topics.pain_points, lambda values: len(daily(values)) >= len(DAILY_DAMAGE))
    )
    by_day = {datetime.fromisoformat(value["window"]["start"]): value for value in daily(summaries)}
    assert len(by_day) == len(daily(summaries)) == len(DAILY_DAMAGE)  # one summary per window
    yesterday = by_day[TODAY - timedelta(days=1)]
    assert yesterday["total"] == 10
    assert yesterday["counts"] == [
        {"topic": "damaged", "region": "SP", "reason": "logistics_pain", "count": 10}
    ]
    assert yesterday["late_arrivals"] == 0

    spikes = asyncio.run(collect(topics.pain_point_spikes, lambda values: len(daily(values)) >= 2))
    day_spikes = {value["region"]: value for value in daily(spikes)}
    assert set(day_spikes) == {"SP", "all"}
    spike = day_spikes["SP"]
    assert (spike["count"], spike["baseline"], spike["baseline_windows"]) == (10, 2.0, 4)
    assert spike["message"].startswith(
        "Damage complaints about carrier acme in region SP rose 5-fold on "
    )
    metrics = worker.metrics()
    assert metrics['parcelwatch_pain_point_spikes_total{topic="damaged"}'] >= 2
    assert metrics['parcelwatch_pain_point_windows_closed_total{size="day"}'] == len(DAILY_DAMAGE)
