"""``with_fetch_wait`` against the real broker and the pinned Faust and aiokafka.

Faust builds its worker consumer with a fixed 1,500 ms fetch wait, and aiokafka keeps the value
where only its own ``start`` reads it; this is where an upgrade that moves either shows: the
consumer the app's transport builds must start with a fetcher holding our wait.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.settings import Settings
from tests.integration.conftest import BROKER


async def test_the_worker_consumer_fetches_with_the_configured_wait(tmp_path):
    settings = Settings(broker=BROKER, data_dir=tmp_path, fetch_max_wait_ms=73)
    app = create_app(settings, registry=CollectorRegistry()).faust
    thread = app.consumer._thread
    consumer = thread._create_worker_consumer(app.transport)
    await consumer.start()
    try:
        assert consumer._fetcher._fetch_max_wait_ms == 73
    finally:
        await consumer.stop()


async def test_faust_alone_would_wait_longer(tmp_path):
    """The baseline the setting replaces: without ``with_fetch_wait`` Faust's own 1,500 ms."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    app = create_app(Settings(broker=BROKER, data_dir=tmp_path), registry=CollectorRegistry()).faust
    plain = AIOKafkaConsumerThread(app.consumer, loop=app.loop, beacon=app.consumer.beacon)
    consumer = plain._create_worker_consumer(app.transport)
    assert consumer._fetch_max_wait_ms == 1500
    assert app.consumer._thread._create_worker_consumer(app.transport)._fetch_max_wait_ms == 100
