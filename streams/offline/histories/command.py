"""``parcelwatch import-history --format scms|dataco FILE... --out DIR``: a public delivery
history (the original CSV or the vendored TSV) → ``DIR/orders.jsonl`` + ``DIR/scans.jsonl`` for
``parcelwatch train``. The mappings are in the ``scms`` and ``dataco`` modules' docstrings."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from parcelwatch.streams.offline.histories import dataco, scms
from parcelwatch.streams.offline.histories.shipments import (
    HistoricShipment,
    ImportReport,
    write_history,
)

Reader = Callable[[Sequence[Path], ImportReport], list[HistoricShipment]]
READERS: dict[str, Reader] = {
    scms.DATASET: scms.read_shipments,
    dataco.DATASET: dataco.read_shipments,
}


def import_history(dataset: str, files: Sequence[Path], out: Path) -> ImportReport:
    """Read ``files`` of ``dataset``, write its shipments' events to ``out``; what was counted."""
    report = ImportReport()
    shipments = READERS[dataset](files, report)
    write_history(shipments, out)
    report.written = len(shipments)
    report.late = sum(shipment.late for shipment in shipments)
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=sorted(READERS), required=True, dest="dataset", help="the dataset"
    )
    parser.add_argument(
        "files", metavar="FILE", type=Path, nargs="+",
        help="the original CSV or the vendored TSV (tests/data/histories), in any number of parts",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for orders.jsonl and scans.jsonl"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for path in args.files:
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    report = import_history(args.dataset, args.files, args.out)
    for line in report.lines():
        print(line)
    print(f"wrote {args.out / 'orders.jsonl'} and {args.out / 'scans.jsonl'}")
    return 0
