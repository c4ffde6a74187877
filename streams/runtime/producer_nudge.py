"""Sending what the producer holds back, now, when a batch waits for its acknowledgements.

The producer lingers (``PARCELWATCH_PRODUCER_LINGER_MS``) to fill its requests: the state
writes a batch leaves behind dribble into the changelog, and lingering sends them in a few
requests instead of many (a sixth of a worker's CPU per event on a backlog). But a batch's
outputs are awaited before its state is written, so every batch also waited out the linger: 5 ms
of each input's latency, for nothing, since no further output of that batch is coming.

aiokafka has no public "send now" short of a transaction commit (``flush_for_commit``, which also
waits). ``send_lingering_now`` does that commit's first half: it closes the open batches, so none
lingers any more, and wakes the sender. aiokafka internals, checked against the pinned versions
by tests/integration/test_producer_nudge.py; where they are missing it does nothing (the linger
is only waited out, as before).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def send_lingering_now(producer: Any) -> bool:
    """Have ``producer`` (an ``AIOKafkaProducer``) send every batch it holds without waiting
    for its linger to end; False where this aiokafka has not the parts it needs."""
    accumulator = getattr(producer, "_message_accumulator", None)
    batches = getattr(accumulator, "_batches", None)
    waiter = getattr(accumulator, "_waiter_future", None)
    if batches is None or waiter is None:
        return False
    for queued in batches.values():
        for batch in queued:
            batch._builder.close()  # a closed batch is ready: the sender takes it at once
    if not waiter.done():
        waiter.set_result(None)  # the sender sleeps on it until the linger ends
    return True


def app_producer_nudge(app: Any) -> Callable[[], None]:
    """``send_lingering_now`` for the Faust app's producer, once it has started."""
    warned = [False]

    def nudge() -> None:
        producer = getattr(app.producer, "_producer", None)  # Faust's AIOKafkaProducer
        if producer is not None and not send_lingering_now(producer) and not warned[0]:
            warned[0] = True
            log.warning(
                "this aiokafka version cannot be asked to send lingering batches now: "
                "outputs wait out the producer's linger (PARCELWATCH_PRODUCER_LINGER_MS)"
            )

    return nudge
