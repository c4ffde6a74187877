"""A batch processor of a keyed table, the shape the side agents share: each message applied to
the state of its key (read from the table at most once per batch) or dead-lettered; then the
batch's outputs published and acknowledged; only then each touched key's state written, once, on
behalf of its last message. If publishing fails nothing is written: the batch is read again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.pipeline.dead_letters import DeadLetterMaker
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import PublishMany

State = TypeVar("State")


@dataclass
class KeyedBatch(Generic[State]):
    """What one batch touched: states by key, and what it will publish."""

    states: dict[str, State] = field(default_factory=dict)
    last_message: dict[str, int] = field(default_factory=dict)  # key -> message index
    outputs: list[OutputMessage] = field(default_factory=list)  # in message order


Batch = TypeVar("Batch", bound=KeyedBatch[Any])


class KeyedTableProcessor(ABC, Generic[State, Batch]):
    """Subclasses say how a message changes its key's state (``_apply``) and how a state is
    stored; ``_stored`` and ``_finish`` are hooks for what follows the table write."""

    def __init__(
        self,
        *,
        topics: TopicNames,
        limits: Limits,
        store: MutableMapping[str, dict[str, Any]],  # key -> stored state
        publish_many: PublishMany,
        clock: Callable[[], datetime],
        metrics: WorkerMetrics,
    ) -> None:
        self._topics = topics
        self._limits = limits
        self._store = store
        self._publish_many = publish_many
        self._clock = clock
        self._metrics = metrics
        self._dead_letter = DeadLetterMaker(topics.dead_letter, limits, metrics)

    async def process_batch(
        self, messages: Sequence[InputMessage], focus: Callable[[int], None] = lambda i: None
    ) -> None:
        """Apply ``messages`` in order, publish what they produce, then store the states.
        ``focus(i)`` tells the table that what follows belongs to message ``i``."""
        now = self._clock()
        batch = self._new_batch()
        for index, message in enumerate(messages):
            focus(index)
            try:
                key = self._apply(message, now, batch)
            except Exception as error:
                batch.outputs.append(self._dead_letter(message, error, now))
                continue
            batch.last_message[key] = index
        if batch.outputs:
            await self._publish_many(batch.outputs)
        # Only keys some message was applied to: a key read for a message that then failed
        # (dead-lettered) has nothing to write, and no message to write it for.
        for key, index in batch.last_message.items():
            state = batch.states[key]
            focus(index)
            self._store[key] = self._state_to_json(state)
            self._stored(key, state, now)
        self._finish(batch)

    def _state(self, key: str, batch: Batch) -> State:
        """``key``'s state in this batch: as the batch left it, else as stored, else new."""
        state = batch.states.get(key)
        if state is None:
            stored = self._store.get(key)
            state = self._state_from_json(stored) if stored is not None else self._new_state(key)
            batch.states[key] = state
        return state

    @abstractmethod
    def _new_batch(self) -> Batch: ...

    @abstractmethod
    def _apply(self, message: InputMessage, now: datetime, batch: Batch) -> str:
        """Apply ``message`` to its key's state in ``batch``; return the key. Raising
        dead-letters the message."""

    @abstractmethod
    def _new_state(self, key: str) -> State: ...

    @abstractmethod
    def _state_from_json(self, stored: dict[str, Any]) -> State: ...

    @abstractmethod
    def _state_to_json(self, state: State) -> dict[str, Any]: ...

    def _stored(self, key: str, state: State, now: datetime) -> None:
        """Called after ``key``'s state was written."""

    def _finish(self, batch: Batch) -> None:
        """Called after the batch's states were written."""
