"""After an unclean stop, local tables are dropped so the changelog restores them."""

from __future__ import annotations

from parcelwatch.streams.runtime.unclean_shutdown import MARKER_NAME, close_data_dir, open_data_dir


def test_a_clean_stop_keeps_the_local_tables(tmp_path):
    tables = tmp_path / "v1" / "tables"
    tables.mkdir(parents=True)
    (tables / "shipments-0.db").write_text("state")
    assert open_data_dir(tmp_path, tables) is False
    assert (tmp_path / MARKER_NAME).exists()
    close_data_dir(tmp_path)
    assert not (tmp_path / MARKER_NAME).exists()
    assert open_data_dir(tmp_path, tables) is False
    assert (tables / "shipments-0.db").read_text() == "state"


def test_a_start_after_a_crash_drops_the_local_tables(tmp_path):
    tables = tmp_path / "v1" / "tables"
    tables.mkdir(parents=True)
    (tables / "shipments-0.db").write_text("ahead of its changelog")
    open_data_dir(tmp_path, tables)  # ... and the process is killed: no close_data_dir
    assert open_data_dir(tmp_path, tables) is True
    assert not tables.exists()
    assert (tmp_path / MARKER_NAME).exists()


def test_an_empty_disk_needs_nothing_dropped(tmp_path):
    data_dir = tmp_path / "new"
    assert open_data_dir(data_dir, data_dir / "v1" / "tables") is False
    assert (data_dir / MARKER_NAME).exists()
