"""The ceiling: a plain aiokafka consumer that decodes each value with orjson and produces one
message per input to a sink topic. Run as ``python -m parcelwatch.streams.devtools.bench.ceiling``
until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def forward(bootstrap: str, group: str, topics: list[str], sink: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest"
    )
    # acks="all" as the worker's producer (producer_acks=-1).
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batches.values():
                for record in records:
                    orjson.loads(record.value)
                    await producer.send(sink, record.value, key=record.key)
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()
        with contextlib.suppress(Exception):
            await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--sink", required=True)
    parser.add_argument("topics", nargs="+")
    args = parser.parse_args()
    asyncio.run(forward(args.bootstrap, args.group, args.topics, args.sink))


if __name__ == "__main__":
    main()
