"""Start a Faust worker for parcelwatch: topics first, then the app."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from faust.worker import Worker
from prometheus_client import REGISTRY
from threadpoolctl import threadpool_limits

from parcelwatch.streams.runtime import log_throttle
from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.garbage_collection import pace_collections, tune_garbage_collector
from parcelwatch.streams.runtime.kafka_admin import ensure_topics
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.unclean_shutdown import close_data_dir, open_data_dir

log = logging.getLogger(__name__)


class ParcelwatchWorker(Worker):
    """Faust's worker, with repeated log records collapsed (see streams/log_throttle.py)."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        # Faust has just replaced the root handlers: throttle the ones it installed.
        throttles = log_throttle.install(logger)
        self._flush_throttles_periodically(throttles, log_throttle.DEFAULT_INTERVAL_SECONDS)

    def _flush_throttles_periodically(
        self, throttles: list[log_throttle.RepeatThrottle], interval: float
    ) -> None:
        def flush() -> None:
            for throttle in throttles:
                throttle.flush()
            self.loop.call_later(interval, flush)

        if throttles:
            self.loop.call_later(interval, flush)


def run_worker(settings: Settings) -> None:
    # One event loop for the set-up and the worker: Faust keeps the loop it is given.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings))
    if (advice := settings.static_membership_advice()) is not None:
        log.warning("%s", advice)
    worker_app = create_app(settings)  # loads the model, and with it scikit-learn's OpenMP runtime
    threadpool_limits(limits=settings.model_threads)  # for the whole process, from now on
    tune_garbage_collector(settings.gc_young_threshold)
    pace_collections(
        worker_app.faust,
        freeze_seconds=settings.gc_freeze_seconds,
        full_collection_minutes=settings.gc_full_collection_minutes,
        registry=REGISTRY,
    )
    open_data_dir(settings.data_dir, Path(worker_app.faust.conf.tabledir))
    worker = ParcelwatchWorker(
        worker_app.faust, loop=loop, loglevel=settings.log_level, redirect_stdouts=False
    )
    try:
        worker.execute_from_commandline()
    except SystemExit as stop:
        if stop.code in (0, None):  # Faust stopped in order: producer flushed, tables closed
            close_data_dir(settings.data_dir)
        raise
