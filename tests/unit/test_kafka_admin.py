"""Topic creation answers: which topics a call created, and which broker errors stop a worker."""

from __future__ import annotations

import pytest

from streams.kafka_admin import TopicLayoutError, _created


def test_created_topics_are_those_without_an_error():
    assert _created([("a", 0, None), ("b", 0, None)]) == ["a", "b"]


def test_a_topic_someone_else_created_first_is_fine_but_not_ours():
    assert _created([("a", 36, "Topic 'a' already exists."), ("b", 0, None)]) == ["b"]


def test_any_other_creation_error_stops_with_the_brokers_words():
    with pytest.raises(TopicLayoutError, match="could not create topic a: Replication factor"):
        _created([("a", 38, "Replication factor: 3 larger than available brokers: 1.")])


def test_an_error_without_words_names_its_code():
    with pytest.raises(TopicLayoutError, match="error code 41"):
        _created([("a", 41)])
