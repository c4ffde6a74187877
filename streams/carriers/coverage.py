"""The README's coverage table, built from the mapping tables (a test keeps the README equal).

python -m parcelwatch.streams.carriers.coverage
"""

from __future__ import annotations

from parcelwatch.schemas.types import CarrierSource, ShipmentStatus
from parcelwatch.streams.carriers.mapping import MAPPING_DIR, mapping_table, read_table_file
from parcelwatch.streams.carriers.registry import MODULES, source_format

START = "<!-- coverage:start (python -m parcelwatch.streams.carriers.coverage) -->"
END = "<!-- coverage:end -->"
_ORDER = list(ShipmentStatus)


def coverage_rows() -> list[str]:
    rows = [
        "| source | kind | codes mapped | word rules | statuses it can give | reasons from codes "
        "| not mapped |",
        "|---|---|---|---|---|---|---|",
    ]
    for source in CarrierSource:
        path = MAPPING_DIR / f"{MODULES[source]}.json"
        if not path.exists():
            continue
        data = read_table_file(path)
        table = mapping_table(source.value)
        mappings = [*table.codes.values(), *(mapping for _, mapping in table.texts)]
        statuses = sorted({mapping.status for mapping in mappings}, key=_ORDER.index)
        reasons = sorted({mapping.reason.value for mapping in mappings if mapping.reason})
        left = "; ".join(f"{item['what']} ({item['why']})" for item in data.get("not_mapped", []))
        rows.append(
            f"| `{source.value}` | {source_format(source).kind} | {len(table.codes)} "
            f"| {len(table.texts)} | {', '.join(status.value for status in statuses)} "
            f"| {', '.join(reasons) or '—'} | {left or '—'} |"
        )
    return rows


def coverage_markdown() -> str:
    return "\n".join([START, *coverage_rows(), END])


if __name__ == "__main__":
    print(coverage_markdown())
