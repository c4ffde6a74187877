import asyncio
import gc
import weakref

import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.streams.runtime.garbage_collection import (
    CollectionPacer,
    CollectorOperations,
    PauseMetrics,
    pace_collections,
)
from tests.streams.runtime.test_batch_agents import FakeApp


@pytest.fixture
def restore_collector():
    callbacks = list(gc.callbacks)
    yield
    gc.callbacks[:] = callbacks
    gc.unfreeze()


class Cycle:
    def __init__(self) -> None:
        self.me = self


def recording_operations(calls: list[str]) -> CollectorOperations:
    return CollectorOperations(
        freeze=lambda: calls.append("freeze"),
        unfreeze=lambda: calls.append("unfreeze"),
        collect=lambda: calls.append("collect"),
    )


def test_the_pacer_freezes_at_each_tick_and_collects_everything_once_per_interval():
    now = [100.0]
    calls: list[str] = []
    pacer = CollectionPacer(
        full_every=600, clock=lambda: now[0], operations=recording_operations(calls)
    )
    decisions = []
    for moment in (100, 105, 699.9, 700, 705, 1300):
        now[0] = moment
        decisions.append(pacer.tick())
    assert decisions == ["freeze", "freeze", "freeze", "full", "freeze", "full"]
    # A full tick unfreezes before collecting, and freezes the survivors again.
    assert calls[3:6] == ["unfreeze", "collect", "freeze"]


def test_a_cycle_frozen_while_alive_is_collected_by_the_next_full_collection(restore_collector):
    pacer = CollectionPacer(full_every=3600)
    cycle = Cycle()
    alive = weakref.ref(cycle)
    assert pacer.tick() == "freeze"
    assert gc.get_freeze_count() > 0
    del cycle
    gc.collect()
    assert alive() is not None  # frozen: out of every collection's sight, as the docstring says
    pacer.last_full = -3600.0  # the interval has passed
    assert pacer.tick() == "full"
    assert alive() is None
    assert gc.get_freeze_count() > 0  # the survivors are frozen again


def test_every_collection_pause_is_observed_by_generation(restore_collector):
    registry = CollectorRegistry()
    ticks = iter([1.0, 1.004, 2.0, 2.25])
    metrics = PauseMetrics(registry, clock=lambda: next(ticks))
    metrics("start", {"generation": 0})
    metrics("stop", {"generation": 0, "collected": 0, "uncollectable": 0})
    metrics("start", {"generation": 2})
    metrics("stop", {"generation": 2, "collected": 3, "uncollectable": 0})
    young = registry.get_sample_value("parcelwatch_gc_pause_seconds_sum", {"generation": "0"})
    full = registry.get_sample_value(
        "parcelwatch_gc_pause_seconds_bucket", {"generation": "2", "le": "0.25"}
    )
    assert young == pytest.approx(0.004)
    assert full == 1
    assert (
        registry.get_sample_value(
            "parcelwatch_gc_pause_seconds_bucket", {"generation": "2", "le": "0.1"}
        )
        == 0
    )


def test_the_worker_paces_collections_on_a_timer_and_observes_real_pauses(restore_collector):
    registry = CollectorRegistry()
    app = FakeApp()
    pace_collections(app, freeze_seconds=5, full_collection_minutes=10, registry=registry)
    interval, tick = app.registered["pace_garbage_collection"]
    assert interval == 5
    asyncio.run(tick())
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    gc.collect(0)
    assert registry.get_sample_value("parcelwatch_gc_pause_seconds_count", {"generation": "0"})


def test_pacing_can_be_left_to_python(restore_collector):
    app = FakeApp()
    registry = CollectorRegistry()
    pace_collections(app, freeze_seconds=0, full_collection_minutes=10, registry=registry)
    assert app.registered == {}
