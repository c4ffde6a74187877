"""Start a Faust worker for parcelwatch: topics first, then the app."""

from __future__ import annotations

import asyncio

from faust.worker import Worker

from streams.app import create_app
from streams.kafka_admin import ensure_topics
from streams.settings import Settings


def run_worker(settings: Settings) -> None:
    # One event loop for the set-up and the worker: Faust keeps the loop it is given.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    worker = Worker(app, loop=loop, loglevel=settings.log_level, redirect_stdouts=False)
    worker.execute_from_commandline()
