"""Python types of the pain-point contracts.

``pain-points`` (output, keyed by carrier) carries one ``PainPointSummary`` per closed window:
the flagged feedback about one carrier in one UTC hour or UTC day, counted by topic, destination
region and flag reason. ``pain-point-spikes`` (output, keyed by carrier) carries a
``PainPointSpike`` when a carrier's count of negative feedback on one topic clearly exceeds its
own trailing baseline. Both ids are deterministic, so a redelivered event has the id it had.

``feedback-tallies`` (internal, keyed by carrier) carries ``FeedbackTally`` (schemas/feedback.py)
and ``PainPointClose``: a worker's timer asks the owner of a carrier's windows to close those that
are due, because only the agent that owns the partition may write the windows table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parcelwatch.schemas.feedback import FeedbackTopic, FlagReason
from parcelwatch.schemas.types import SCHEMA_VERSION

ALL_REGIONS = "all"  # a spike's region when it counts the topic over every region


class WindowSize(StrEnum):
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class Window:
    """A UTC calendar window: ``[start, end)``, an hour or a day (from 00:00 UTC)."""

    size: WindowSize
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class PainPointCount:
    """Pieces of feedback of one topic, destination region and flag reason in the window.

    Feedback about several topics is counted once under each; feedback with no topic has
    ``topic`` null. The ``by_*`` breakdowns of the summary count each piece of feedback once.
    """

    topic: FeedbackTopic | None
    region: str
    reason: FlagReason
    count: int


@dataclass(frozen=True, slots=True)
class KeyCount:
    key: str
    count: int


@dataclass(frozen=True, slots=True)
class PainPointSummary:
    """The flagged feedback about one carrier in one closed window, on ``pain-points``."""

    summary_id: str  # deterministic: carrier, window size and window start
    carrier: str
    window: Window
    total: int  # distinct pieces of feedback counted in the window
    counts: tuple[PainPointCount, ...]  # sorted by count, largest first
    by_topic: tuple[KeyCount, ...]  # each sums the feedback mentioning the topic
    by_region: tuple[KeyCount, ...]  # these two sum to ``total``
    by_reason: tuple[KeyCount, ...]
    late_arrivals: int  # tallies for this carrier's already closed windows of this size, seen
    #                     since its previous summary of this size (not in any count)
    closed_at: datetime
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class PainPointSpike:
    """A carrier's negative feedback on one topic well above its trailing baseline."""

    spike_id: str  # deterministic: carrier, window size and start, topic, region
    carrier: str
    topic: FeedbackTopic
    region: str  # a destination region, or "all"
    window: Window
    count: int
    baseline: float  # mean per window over the trailing windows (7 days; hourly: 24 hours)
    baseline_windows: int  # how many trailing windows the mean is over (fewer for new carriers)
    ratio: float | None  # count / baseline; null when the baseline is 0
    message: str  # plain English, for people
    detected_at: datetime
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class PainPointClose:
    """Internal, on ``feedback-tallies`` keyed by carrier: close this carrier's due windows."""

    carrier: str
    requested_at: datetime
    schema_version: int = SCHEMA_VERSION
