"""How long the broker may hold the worker's fetch requests waiting for data.

aiokafka sends one fetch request per broker at a time, and leaves out the partitions whose
fetched records the worker has not consumed yet. When some partitions of a broker are caught up
and others still have records buffered, the request asks only for the caught-up ones, and the
broker holds it until one of them gets data or the wait runs out; the buffered partitions' next
records cannot be fetched meanwhile. faust-streaming builds its consumer with a fixed 1,500 ms
wait, so a worker working through a backlog stalled for up to 1.5 s each time partitions caught
up unevenly (measured: 1.1-1.5 s pauses mid-backlog, idle CPU, at the end of most bursts).

``with_fetch_wait`` gives one Faust app's transport a consumer built with our wait instead.
aiokafka's ``AIOKafkaConsumer`` takes it as ``fetch_max_wait_ms``; Faust passes its own value,
so the built consumer's setting is replaced before the consumer starts (a constructor argument
kept as ``_fetch_max_wait_ms``, which ``start`` hands to its fetcher).
tests/runtime/test_fetch_wait.py checks this against the pinned Faust and aiokafka.
"""

from __future__ import annotations

import logging
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

log = logging.getLogger(__name__)


def with_fetch_wait(app: Any, fetch_max_wait_ms: int) -> None:
    """Have ``app``'s worker consumer let the broker hold a fetch at most ``fetch_max_wait_ms``.

    Only this app's transport is changed: its ``Consumer`` class is replaced on the transport
    instance by a subclass whose consumer thread sets the wait on the consumer it builds."""
    transport = app.transport
    base_consumer = transport.Consumer

    class ShortWaitConsumerThread(AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            if not hasattr(consumer, "_fetch_max_wait_ms"):  # an aiokafka without it: warn once
                log.warning(
                    "this aiokafka builds its fetcher differently: the broker may hold fetches "
                    "for Faust's 1,500 ms (PARCELWATCH_FETCH_MAX_WAIT_MS has no effect)"
                )
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    class ShortWaitConsumer(base_consumer):  # type: ignore[misc, valid-type]
        def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
            return ShortWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)

    transport.Consumer = ShortWaitConsumer
