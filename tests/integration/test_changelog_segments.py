"""The changelog topics a worker creates roll their segments soon enough for compaction to bound
what a restore reads (Kafka never compacts a partition's active segment, 1 GiB by default)."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.integration.conftest import BOOTSTRAP

SEGMENT_MB = 4
SEGMENT_HOURS = 2


async def changelog_configs(prefix: str) -> dict[str, dict[str, str]]:
    """Every ``prefix…-changelog`` topic's effective settings, as the broker describes them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        resources = [
            ConfigResource(ConfigResourceType.TOPIC, name)
            for name in names
            if name.endswith("-changelog")
        ]
        configs: dict[str, dict[str, str]] = {}
        for response in await admin.describe_configs(resources):
            for _error, _message, _type, name, entries in response.resources:
                configs[name] = {entry[0]: entry[1] for entry in entries}
        return configs
    finally:
        await admin.close()


async def test_the_worker_creates_its_changelogs_with_the_configured_segments(deployment, workers):
    workers.append(
        deployment.start_worker(
            extra_env={
                "PARCELWATCH_CHANGELOG_SEGMENT_MB": str(SEGMENT_MB),
                "PARCELWATCH_CHANGELOG_SEGMENT_HOURS": str(SEGMENT_HOURS),
            }
        )
    )  # start_worker returns once /readyz says ready: the tables are set up

    configs = await changelog_configs(deployment.prefix)
    assert f"{deployment.prefix}parcelwatch-shipments-changelog" in configs
    for name, config in configs.items():
        assert config["cleanup.policy"] == "compact", name
        assert config["segment.bytes"] == str(SEGMENT_MB * 2**20), name
        assert config["segment.ms"] == str(SEGMENT_HOURS * 3_600_000), name
