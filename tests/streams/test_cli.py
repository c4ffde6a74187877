"""The `parcelwatch` command's own printing (the commands it runs are tested where they live)."""

from __future__ import annotations

from parcelwatch.streams.cli import _hours, _number


def test_metrics_a_one_class_split_leaves_undefined_print_as_n_a():
    assert _number(None) == "n/a"
    assert _number(0.81234) == "0.812"
    assert _number(-0.0456, "+.3f") == "-0.046"
    assert _hours(None) == "n/a"
    assert _hours(5.25) == "+5.2 h"
