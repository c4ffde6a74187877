"""The floor: a Faust app whose one agent only forwards, with the worker's Faust settings where
they matter (raw serializers, at-least-once, acks=-1, the producer's linger and batch size, the
consumer's fetch wait, ``take_batches`` of the worker's default size and wait). Each
value is decoded with orjson, as the ceiling does, so that floor vs ceiling is the framework
alone.
Run as ``python -m parcelwatch.streams.devtools.bench.floor``."""

from __future__ import annotations

import argparse

import faust
import orjson
from faust.worker import Worker

from parcelwatch.streams.runtime.batch_take import take_app_batches
from parcelwatch.streams.runtime.fetch_wait import with_fetch_wait
from parcelwatch.streams.runtime.settings import Settings

DEFAULTS = Settings()


def create_floor_app(args: argparse.Namespace) -> faust.App:
    app = faust.App(
        args.app_id,
        broker=f"kafka://{args.bootstrap}",
        store="memory://",  # no table: the floor keeps no state
        datadir=args.data_dir,
        topic_partitions=args.partitions,
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_port=args.web_port,
        processing_guarantee="at_least_once",
        producer_acks=-1,
        producer_linger=DEFAULTS.producer_linger_ms / 1000,
        producer_max_batch_size=DEFAULTS.producer_max_batch_bytes,
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
    )
    with_fetch_wait(app, DEFAULTS.fetch_max_wait_ms)
    source = app.topic(*args.topics, key_serializer="raw", value_serializer="raw")
    sink = app.topic(args.sink, key_serializer="raw", value_serializer="raw")

    @app.agent(source, name="forward", concurrency=1)
    async def forward(stream: faust.StreamT) -> None:
        async for events in take_app_batches(app, stream, DEFAULTS):
            for event in events:
                orjson.loads(event.value)
                await sink.send(key=event.key, value=event.value)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--sink", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--web-port", type=int, required=True)
    parser.add_argument("topics", nargs="+")
    args = parser.parse_args()
    app = create_floor_app(args)
    Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
