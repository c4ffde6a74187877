import argparse
import os
from pathlib import Path

from parcelwatch.streams.devtools.chaos.options import (
    MEMORY_FILESYSTEM,
    ChaosOptions,
    add_arguments,
    options_from_args,
)


def _options(*argv: str) -> ChaosOptions:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return options_from_args(parser.parse_args(list(argv)))


def test_the_suite_broker_keeps_its_log_in_memory_where_there_is_one():
    usable = os.access(MEMORY_FILESYSTEM, os.W_OK | os.X_OK)
    assert _options("--quick").broker_log_root == (MEMORY_FILESYSTEM if usable else None)
    assert ChaosOptions().broker_log_root == (MEMORY_FILESYSTEM if usable else None)


def test_broker_on_disk_keeps_it_in_the_run_directory():
    assert _options("--quick", "--broker-on-disk").broker_log_root is None
    assert _options("--broker-on-disk", "--scenario", "bad-input").scenarios == ("bad-input",)


def test_an_explicit_root_is_kept():
    assert ChaosOptions(broker_log_root=Path("/tmp")).broker_log_root == Path("/tmp")
