"""What the pipeline reads and writes: Kafka messages as plain values, independent of Faust."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InputMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @property
    def payload(self) -> bytes:
        """The value, with a tombstone (no value) read as empty bytes: decoders reject it."""
        return self.value if self.value is not None else b""


@dataclass(frozen=True, slots=True)
class OutputMessage:
    topic: str
    key: bytes
    value: bytes
    partition: int | None = None  # None: the key's partition
