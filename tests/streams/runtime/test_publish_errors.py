"""Which producer errors are retried and how errors are described in logs (never their data)."""

from __future__ import annotations

from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
)
from faust.exceptions import ProducerSendError

from parcelwatch.streams.pipeline.error_text import describe, stack
from parcelwatch.streams.runtime.publishing import retriable


def wrapped(cause: BaseException) -> ProducerSendError:
    try:
        raise ProducerSendError(f"Error while sending: {cause!r}") from cause
    except ProducerSendError as error:
        return error


def test_outages_are_retried_even_when_faust_wraps_them():
    for cause in (KafkaConnectionError(), KafkaTimeoutError(), NotLeaderForPartitionError()):
        assert retriable(cause)
        assert retriable(wrapped(cause))


def test_refusals_are_not_retried():
    for cause in (MessageSizeTooLargeError(), TopicAuthorizationFailedError()):
        assert not retriable(cause)
        assert not retriable(wrapped(cause))
    assert not retriable(RuntimeError("a bug"))


def test_errors_are_described_by_class_only():
    error = wrapped(MessageSizeTooLargeError("key=SECRET-TRACKING-NUMBER"))
    assert describe(error) == "ProducerSendError caused by MessageSizeTooLargeError"


def test_stacks_show_where_not_what():
    try:
        {}["1Z-SECRET-TRACKING"]
    except KeyError as error:
        text = stack(error)
    assert "test_stacks_show_where_not_what" in text and "SECRET" not in text.split("\n")[0]
