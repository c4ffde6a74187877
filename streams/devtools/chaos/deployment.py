"""One isolated parcelwatch deployment on the chaos broker: its own topic prefix and app id
(consumer group), and worker settings that make outputs a function of the input alone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from parcelwatch.schemas.topics import TopicNames
from parcelwatch.streams.runtime.kafka_admin import ensure_topics
from parcelwatch.streams.runtime.settings import Settings

# Outputs must not depend on the wall clock, so that two runs of one input can be compared id by
# id and payload by payload:
# - no timer sweeps (silence alerts and review requests are judged by the clock);
# - no quiet hours (whether a notification waits depends on the hour of the run);
# - milestones are never "too old to tell" (the simulator's events are up to 10 days old, and
#   staleness is judged against the processing time);
# - review requests never fall due (due 24 h after delivery: a simulated delivery 23.9 h ago
#   would be due in one run and not in the next);
# - no delay-risk model (rules only).
DETERMINISTIC_WORKER_ENV = {
    "PARCELWATCH_CHECK_INTERVAL_SECONDS": str(7 * 24 * 3600),
    "PARCELWATCH_QUIET_HOURS": "off",
    "PARCELWATCH_NOTIFY_STALE_AFTER_HOURS": "1000000",
    "PARCELWATCH_REVIEW_AFTER_HOURS": "1000000",
    "PARCELWATCH_REVIEW_WINDOW_HOURS": "2000000",
    "PARCELWATCH_LOG_LEVEL": "info",
}


@dataclass(frozen=True)
class Deployment:
    bootstrap: str
    prefix: str  # e.g. "chaos-1a2b.calm."
    partitions: int
    overrides: tuple[tuple[str, str], ...] = ()  # worker settings a scenario changes

    @property
    def app_id(self) -> str:
        return f"{self.prefix}parcelwatch"

    @property
    def topics(self) -> TopicNames:
        return TopicNames.with_prefix(self.prefix)

    @property
    def changelog_topic(self) -> str:
        return f"{self.app_id}-shipments-changelog"

    def worker_env(self, data_dir: Path, web_port: int) -> dict[str, str]:
        # The harness owns every parcelwatch setting: an inherited one (a model dir, another
        # broker, a batch size) would change what is being compared.
        inherited = {
            name: value for name, value in os.environ.items() if not name.startswith("PARCELWATCH_")
        }
        return {
            **inherited,
            **DETERMINISTIC_WORKER_ENV,
            "PARCELWATCH_KAFKA_BROKER": f"kafka://{self.bootstrap}",
            "PARCELWATCH_TOPIC_PREFIX": self.prefix,
            "PARCELWATCH_APP_ID": self.app_id,
            "PARCELWATCH_PARTITIONS": str(self.partitions),
            "PARCELWATCH_DATA_DIR": str(data_dir),
            "PARCELWATCH_WEB_HOST": "127.0.0.1",
            "PARCELWATCH_WEB_PORT": str(web_port),
            **dict(self.overrides),
        }

    def settings(self) -> Settings:
        return Settings.from_env(self.worker_env(Path("unused"), 1))

    async def create_topics(self) -> None:
        await ensure_topics(self.settings())
