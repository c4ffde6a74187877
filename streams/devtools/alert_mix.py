"""The demo's closing table: alerts by kind, expected from the simulator's ground truth against
seen on the alerts topic. Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from parcelwatch.schemas.types import AlertKind
from parcelwatch.streams.devtools.mix_table import MixTable
from parcelwatch.streams.simulation.ground_truth import RULE_KINDS, InjectedTrouble

ALERT_MIX = MixTable("alert mix    ", "kind", extra_heading="close calls*")


@dataclass
class SeenAlerts:
    """Alerts read back during the demo, sorted by what they are about."""

    in_window: Counter[str] = field(default_factory=Counter)  # played shipments, played window
    after_window: Counter[str] = field(default_factory=Counter)  # silences the cut left behind
    other_shipments: int = 0  # not this run's (a previous run's shipments in the worker's table)


def alert_mix_lines(
    expected: Counter[AlertKind],
    close_calls: Counter[AlertKind],
    seen: SeenAlerts,
    trouble: InjectedTrouble,
    close_call: str,
) -> list[str]:
    """The comparison, one line each; rule alerts only in the totals (delay_risk is a model's).

    ``close_calls``: expected silences that fall due less than two timer sweeps (``close_call``,
    in words) before the journey's next scan, which the worker's timer may find already over.
    """
    lines = [
        f"ground truth of the {trouble.journeys} played journeys: {trouble.exceptions} carrier "
        f"exceptions ({trouble.weather} weather), {trouble.failed_attempts} failed delivery "
        f"attempts, {trouble.returned} returned, {trouble.late} delivered after the promise",
    ]
    expected_by_kind = {kind.value: n for kind, n in expected.items()}
    close_by_kind = {kind.value: close_calls[kind] for kind in RULE_KINDS}
    kinds = [kind.value for kind in RULE_KINDS]
    lines += ALERT_MIX.rows(kinds, expected_by_kind, seen.in_window, close_by_kind)
    beyond: dict[str, int] = {}  # kind: how far seen is outside [expected - close calls, expected]
    for kind in RULE_KINDS:
        want, got, close = expected[kind], seen.in_window[kind.value], close_calls[kind]
        if got > want:
            beyond[kind.value] = got - want
        elif got < want - close:
            beyond[kind.value] = got - (want - close)
    if beyond:
        words = ", ".join(f"{kind} {n:+d}" for kind, n in beyond.items())
        lines.append(f"alert mix    beyond the close calls: {words}")
    else:
        lines.append("alert mix    every difference is a close call: seen matches the ground truth")
    lines.append(
        f"alert mix    * expected silences due less than two timer sweeps ({close_call}) before "
        "the journey's next scan: the timer may find them over"
    )
    lines.append(
        f"alert mix    delay_risk (from the model; the simulator cannot predict it): "
        f"seen {seen.in_window[AlertKind.DELAY_RISK.value]}"
    )
    if seen.after_window:
        late = ", ".join(f"{kind}: {n}" for kind, n in sorted(seen.after_window.items()))
        lines.append(f"not compared: due after the played window (journeys cut there): {late}")
    if seen.other_shipments:
        lines.append(
            f"not compared: {seen.other_shipments} alerts about shipments of earlier demo runs"
        )
    return lines
