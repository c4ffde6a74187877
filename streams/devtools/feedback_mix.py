"""The demo's flagged feedback: one line for each piece read from ``feedback-flagged``, and the
closing table of flags by reason, expected from the simulator's ground truth against seen. Pure.

The lines read messages as the ``FlaggedFeedback`` contract writes them (``codec.encode``): the
text, language and carrier come from producers, so they are printed without escape sequences.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parcelwatch.schemas.feedback import FlagReason
from parcelwatch.streams.core.notification_text import customer_text
from parcelwatch.streams.devtools.mix_table import MixTable
from parcelwatch.streams.simulation import SimulatedFeedback

FEEDBACK_MARK = " <"  # what customers say comes in (alerts are "!", notifications ">")
EXCERPT_CHARS = 60
FLAG_MIX = MixTable("flag mix     ", "reason", label_width=31)


def flagged_feedback_line(event: Mapping[str, Any]) -> str:
    """One piece of flagged feedback: reason, severity, language, carrier, the delivery
    sentiment, the topics and the start of the text."""
    flag = event["flag"]
    shipment = event.get("shipment")
    carrier = (shipment or {}).get("carrier") or "unknown"
    delivery = event.get("delivery_sentiment")
    topics = ",".join(_safe(topic["topic"]) for topic in event.get("topics") or ()) or "-"
    return (
        f"{FEEDBACK_MARK} {_safe(flag['reason']):<30} {_safe(flag['severity']):<8} "
        f"{_safe(event['language']):<3} {_safe(carrier):<7} "
        f"delivery {_safe(delivery['label']) if delivery else '-':<8} {topics}: "
        f"{excerpt(event.get('text'), event.get('rating'))}"
    )


def excerpt(text: str | None, rating: int | None = None) -> str:
    """The text on one line, quoted, cut to :data:`EXCERPT_CHARS` characters."""
    if not text:
        return f"(rating {rating}/5, no text)" if rating is not None else "(no text)"
    one_line = " ".join(customer_text(text).split())
    if len(one_line) > EXCERPT_CHARS:
        one_line = one_line[: EXCERPT_CHARS - 1].rstrip() + "…"
    return f'"{one_line}"'


@dataclass
class SeenFeedback:
    """Flagged feedback read back during the demo."""

    by_reason: Counter[str] = field(default_factory=Counter)  # about this run's orders
    other_runs: int = 0  # about orders of earlier demo runs

    def record(self, event: Mapping[str, Any], order_ids: frozenset[str]) -> bool:
        """Count one message; whether it is about this run's orders (``order_ids``: those its
        feedback names), else a previous run's, whose wait for its order ends now."""
        if event["order_id"] not in order_ids:
            self.other_runs += 1
            return False
        self.by_reason[event["flag"]["reason"]] += 1
        return True


@dataclass(frozen=True, slots=True)
class ExpectedFlags:
    by_reason: Counter[str]
    still_waiting: int  # unmatched pieces whose wait had not ended when the demo stopped


def expected_flags(
    feedback: Iterable[SimulatedFeedback], *, wait: timedelta, until: datetime
) -> ExpectedFlags:
    """The flags (by reason) ``feedback`` calls for by ``until``: an unmatched piece is flagged
    only once its wait for the order (``wait``, from its publication) is over."""
    by_reason: Counter[str] = Counter()
    still_waiting = 0
    for piece in feedback:
        if piece.expected_flag is FlagReason.UNMATCHED and piece.item.emit_at + wait > until:
            still_waiting += 1
        else:
            by_reason[piece.expected_flag.value] += 1
    return ExpectedFlags(by_reason, still_waiting)


def feedback_mix_lines(
    expected: ExpectedFlags, seen: SeenFeedback, languages: Mapping[str, int], wait: str
) -> list[str]:
    """The comparison, one line each; ``languages``: pieces played by the language they are
    written in; ``wait``: the worker's wait for an unknown order, in words."""
    played = sum(languages.values())
    by_language = ", ".join(f"{language} {n}" for language, n in sorted(languages.items()))
    lines = [f"feedback flags: expected vs seen ({played} pieces played: {by_language})"]
    lines += FLAG_MIX.rows(
        [reason.value for reason in FlagReason], expected.by_reason, seen.by_reason
    )
    if expected.still_waiting:
        lines.append(
            f"not compared: {_pieces(expected.still_waiting)} about unknown orders still inside "
            f"their wait ({wait}) when the demo stopped"
        )
    if seen.other_runs:
        lines.append(
            f"not compared: {_pieces(seen.other_runs, 'flagged ')} about earlier demo runs"
        )
    return lines


def _pieces(count: int, kind: str = "") -> str:
    return f"{count} {kind}{'piece' if count == 1 else 'pieces'}"


def _safe(value: object) -> str:
    return customer_text(str(value))
