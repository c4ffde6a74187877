"""The demo's expected-vs-seen tables (alerts by kind, feedback flags by reason): one row per
label, with the difference, an optional last column, and a total. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MixTable:
    """How a table's lines start and how wide its label column is."""

    lead: str  # every line starts with it, e.g. "alert mix    "
    label_heading: str  # e.g. "kind"
    label_width: int = 20
    extra_heading: str | None = None  # a last column's heading (alerts: their close calls)

    def header(self) -> str:
        extra = "" if self.extra_heading is None else f"{self.extra_heading:>14}"
        heading = f"{self.label_heading:<{self.label_width}}"
        return f"{self.lead}{heading}{'expected':>9}{'seen':>7}{'diff':>7}{extra}"

    def row(self, label: str, want: int, got: int, extra: int | None = None, note: str = "") -> str:
        last = "" if extra is None else f"{extra:>14}"
        return (
            f"{self.lead}{label:<{self.label_width}}{want:>9}{got:>7}{got - want:>+7}{last}{note}"
        )

    def rows(
        self,
        labels: Iterable[str],
        expected: Mapping[str, int],
        seen: Mapping[str, int],
        extra: Mapping[str, int] | None = None,
    ) -> list[str]:
        """The header, a row for each label expected or seen (in ``labels``' order), and the
        total over ``labels`` with how far seen is from expected, as a share."""
        labels = list(labels)
        lines = [self.header()]
        for label in labels:
            want, got = expected.get(label, 0), seen.get(label, 0)
            if want or got:
                lines.append(self.row(label, want, got, _extra(extra, label)))
        want_total = sum(expected.get(label, 0) for label in labels)
        got_total = sum(seen.get(label, 0) for label in labels)
        share = f"  ({(got_total - want_total) / want_total:+.1%})" if want_total else ""
        total_extra = None if extra is None else sum(extra.get(label, 0) for label in labels)
        lines.append(self.row("total", want_total, got_total, total_extra, share))
        return lines


def _extra(extra: Mapping[str, int] | None, label: str) -> int | None:
    return None if extra is None else extra.get(label, 0)
