"""Start a Faust worker for parcelwatch: topics first, then the app."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from faust.worker import Worker

from streams.agents import EXIT_AGENT_DIED
from streams.app import create_app
from streams.kafka_admin import ensure_topics
from streams.settings import Settings
from streams.unclean_shutdown import close_data_dir, open_data_dir

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    # One event loop for the set-up and the worker: Faust keeps the loop it is given.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings))
    worker_app = create_app(settings)
    open_data_dir(settings.data_dir, Path(worker_app.faust.conf.tabledir))
    worker = Worker(
        worker_app.faust, loop=loop, loglevel=settings.log_level, redirect_stdouts=False
    )
    try:
        worker.execute_from_commandline()
    except SystemExit:
        close_data_dir(settings.data_dir)  # reached only after Faust's orderly stop
        fatal = worker_app.tracking.health.fatal
        if fatal:
            # A non-zero exit, so that "restart on failure" policies restart the worker too.
            log.critical("worker stopped: %s", fatal)
            raise SystemExit(EXIT_AGENT_DIED) from None
        raise
