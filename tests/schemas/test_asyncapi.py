"""schemas/asyncapi.yaml stays in step with the code: topics, JSON Schemas, version, references."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from parcelwatch.schemas.topics import TopicNames

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
ASYNCAPI = SCHEMAS / "asyncapi.yaml"
JSON_SCHEMAS = SCHEMAS / "json"
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping with a key given twice (yaml.safe_load keeps the last
    one silently, so a second copy of a channel would hide the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, UniqueKeyLoader.construct_mapping
)


def load_unique(text: str) -> Any:
    return yaml.load(text, Loader=UniqueKeyLoader)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded = load_unique(ASYNCAPI.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_strict_loader_refuses_a_key_given_twice() -> None:
    assert load_unique("a:\n  b: 1\n  c: 2\n") == {"a": {"b": 1, "c": 2}}
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key 'b'"):
        load_unique("a:\n  b: 1\n  c: 2\n  b: 3\n")


def test_the_file_has_no_key_given_twice() -> None:
    # The fixture loads it strictly too; this names the failure when a copy creeps back in.
    assert load_unique(ASYNCAPI.read_text(encoding="utf-8"))["channels"]["feedbackTallies"]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    """A local reference ``#/a/b`` (JSON Pointer, with ~1 and ~0 escapes)."""
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def _channel_name(ref: str) -> str:
    prefix = "#/channels/"
    assert ref.startswith(prefix), ref
    return ref.removeprefix(prefix).split("/")[0]


def test_header_and_version_match_the_project(doc: dict[str, Any]) -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project_version = tomllib.load(file)["project"]["version"]
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] == "parcelwatch"
    assert doc["info"]["version"] == project_version
    assert "PARCELWATCH_TOPIC_PREFIX" in doc["info"]["description"]
    assert "schemas/CHANGELOG.md" in doc["info"]["description"]
    assert doc["servers"]["local"]["host"] == "127.0.0.1:9092"
    assert doc["servers"]["local"]["protocol"] == "kafka"


def test_one_channel_per_topic(doc: dict[str, Any]) -> None:
    addresses = [channel["address"] for channel in doc["channels"].values()]
    assert len(addresses) == len(set(addresses))
    assert set(addresses) == set(TopicNames().all)
    for name, channel in doc["channels"].items():
        assert channel.get("description"), f"channel {name} has no description"
        assert channel.get("messages"), f"channel {name} has no message"
    checks = next(
        c for c in doc["channels"].values() if c["address"] == TopicNames().shipment_checks
    )
    assert "internal" in checks["description"].lower()


def test_every_local_reference_resolves(doc: dict[str, Any]) -> None:
    local = [ref for ref in _refs(doc) if ref.startswith("#")]
    assert local
    for ref in local:
        _resolve(doc, ref)


def test_file_references_cover_exactly_the_json_schemas(doc: dict[str, Any]) -> None:
    referenced = set()
    for ref in _refs(doc):
        if ref.startswith("#"):
            continue
        assert ref.startswith("./json/"), f"{ref}: payload files are referenced as ./json/..."
        path = (SCHEMAS / ref).resolve()
        assert path.is_file(), f"{ref} does not exist"
        assert path.parent == JSON_SCHEMAS
        referenced.add(path.name)
    on_disk = {path.name for path in JSON_SCHEMAS.glob("*.json")}
    assert on_disk, "no JSON Schemas found"
    assert referenced == on_disk


def test_messages_are_keyed_json_with_their_schema_format(doc: dict[str, Any]) -> None:
    messages = doc["components"]["messages"]
    for name, message in messages.items():
        assert message["contentType"] == "application/json", name
        payload = message["payload"]
        assert payload["schemaFormat"] == SCHEMA_FORMAT, name
        ref = payload["schema"].get("$ref")
        if ref is not None:  # the referenced file is written in the declared draft
            schema = json.loads((SCHEMAS / ref).read_text(encoding="utf-8"))
            assert schema["$schema"] == DRAFT_2020_12, ref
        assert message["bindings"]["kafka"]["key"]["type"] == "string", name


def test_tracking_number_keys_match_the_event_schemas(doc: dict[str, Any]) -> None:
    """Events with a tracking_number are keyed by it: the key schema is the field's schema."""
    keyed_by_tracking_number = set()
    for name, message in doc["components"]["messages"].items():
        ref = message["payload"]["schema"].get("$ref")
        if ref is None:
            continue
        schema = json.loads((SCHEMAS / ref).read_text(encoding="utf-8"))
        field = schema["properties"].get("tracking_number")
        key = message["bindings"]["kafka"]["key"]
        if field is None or "equal to the payload's tracking_number" not in key["description"]:
            continue
        key = message["bindings"]["kafka"]["key"]
        assert key["pattern"] == field["pattern"], name
        assert key["maxLength"] == field["maxLength"], name
        keyed_by_tracking_number.add(name)
    assert keyed_by_tracking_number == {
        "scan", "order", "shipmentCheck", "alert", "notification", "shipmentFeedback"
    }  # fmt: skip


def test_channel_messages_exist_in_components(doc: dict[str, Any]) -> None:
    components = doc["components"]["messages"]
    used = set()
    for name, channel in doc["channels"].items():
        for message in channel["messages"].values():
            ref = message["$ref"]
            assert ref.startswith("#/components/messages/"), f"{name}: {ref}"
            message_name = ref.removeprefix("#/components/messages/")
            assert message_name in components, f"{name}: {ref} is not defined"
            used.add(message_name)
    assert used == set(components)


def test_operations_and_channels_match(doc: dict[str, Any]) -> None:
    channels = doc["channels"]
    covered = set()
    for name, operation in doc["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        channel = _channel_name(operation["channel"]["$ref"])
        assert channel in channels, f"operation {name}: unknown channel {channel}"
        assert operation["messages"], f"operation {name} has no message"
        for message in operation["messages"]:
            # AsyncAPI 3: an operation's messages must be messages of its own channel.
            assert message["$ref"].startswith(f"#/channels/{channel}/messages/"), name
            _resolve(doc, message["$ref"])
        covered.add(channel)
    assert covered == set(channels), f"channels without operation: {set(channels) - covered}"


def test_operations_say_what_parcelwatch_does(doc: dict[str, Any]) -> None:
    topics = TopicNames()
    done = {
        (op["action"], doc["channels"][_channel_name(op["channel"]["$ref"])]["address"])
        for op in doc["operations"].values()
    }
    expected_receive = {
        *topics.consumed,
        topics.model_updates,
        topics.feedback_tallies,
        topics.carrier_raw,
        topics.model_outcomes,
        topics.returns,
    }
    expected_send = {*topics.outputs, *topics.internal, topics.model_updates, topics.carrier_scans}
    assert {address for action, address in done if action == "receive"} == expected_receive
    assert {address for action, address in done if action == "send"} == expected_send
