"""Landing a delivery into PostgreSQL: lineage, quarantine, manifest, and replace-on-rerun."""

import hashlib
from datetime import UTC, date, datetime

import pytest

from extractors.batch import make_batch
from extractors.daily import land_mappings
from extractors.deliveries import Places
from extractors.mapping import load_mapping
from extractors.settings import DEFAULT_MAPPINGS
from simulator import exports
from simulator.config import SimulationConfig
from simulator.world import build_world
from warehouse.connection import connect

pytestmark = pytest.mark.integration
DAY = date(2026, 10, 1)
MAPPING = load_mapping(DEFAULT_MAPPINGS / "call_center.yml")


@pytest.fixture
def delivery(tmp_path):
    world = build_world(SimulationConfig(days=1, n_agents=20))
    dirt: list[dict] = []
    exports.write_call_center(world, tmp_path / "call_center", dirt)
    path = tmp_path / "call_center" / "contacts_20261001.csv"
    # Make sure this delivery has both kinds of dirt, whatever the seed drew.
    lines = path.read_text().splitlines()
    lines.insert(5, lines[3])
    bad = lines[7].split(",")
    bad[0], bad[9] = "CCBROKEN", "-12"
    lines.insert(8, ",".join(bad))
    path.write_text("\n".join(lines) + "\n")
    return path, world, lines


def _land(conn, folder, run_id):
    batch = make_batch(
        "call_center", DAY, "Asia/Shanghai", run_id, "extract_call_center", datetime.now(UTC)
    )
    return land_mappings(conn, batch, {MAPPING.raw_table: MAPPING}, Places(folder))


def test_a_delivery_lands_with_lineage_quarantine_and_manifest(clean_warehouse, delivery):
    path, world, lines = delivery
    with connect() as conn:
        summary = _land(conn, path.parent.parent, "run1")
        data_lines = len(lines) - 1
        assert summary.rows_read == data_lines
        assert summary.rows_quarantined == 1 + sum(1 for line in lines if "n/a" in line)
        assert summary.rows_loaded == data_lines - summary.rows_quarantined
        manifest = conn.execute(
            "select source_object, rows_read, rows_loaded, rows_quarantined, file_checksum,"
            " batch_id"
            " from raw.batch_manifest where source_system = 'call_center'"
        ).fetchall()
        assert manifest == [
            (
                path.name,
                summary.rows_read,
                summary.rows_loaded,
                summary.rows_quarantined,
                hashlib.sha256(path.read_bytes()).hexdigest(),
                "run1/extract_call_center",
            )
        ]
        reason, raw_text, position = conn.execute(
            "select reason, raw_text, source_position from raw.quarantine"
            " where raw_text like 'CCBROKEN%'"
        ).fetchone()
        assert reason == "HoldSec: -12 seconds is negative"
        assert position == "9" and raw_text == lines[8]
        # Every landed row points back at its line, and its hash is the hash of that line.
        rows = conn.execute(
            "select source_position::int, content_hash, contact_id, batch_date"
            " from raw.call_center_contacts"
        ).fetchall()
        for position, content_hash, contact_id, batch_date in rows:
            line = lines[position - 1]
            assert line.startswith(contact_id + ",")
            assert content_hash == hashlib.md5(line.encode()).hexdigest()
            assert batch_date == DAY
        assert len({r[2] for r in rows}) == len(world.contacts)


def test_landing_the_same_day_again_replaces_the_batch(clean_warehouse, delivery):
    path, _, _ = delivery
    with connect() as conn:
        first = _land(conn, path.parent.parent, "run1")
        _land(conn, path.parent.parent, "run2")
        counts = conn.execute(
            "select (select count(*) from raw.call_center_contacts),"
            " (select count(*) from raw.quarantine), (select count(*) from raw.batch_manifest),"
            " (select array_agg(distinct batch_id) from raw.call_center_contacts)"
        ).fetchone()
    assert counts == (first.rows_loaded, first.rows_quarantined, 1, ["run2/extract_call_center"])


def test_a_landing_that_fails_halfway_leaves_the_previous_batch(
    clean_warehouse, delivery, monkeypatch
):
    path, _, _ = delivery
    from extractors import csv_landing

    real_blocks = csv_landing._blocks

    def read_then_break(*args, **kwargs):
        for number, block in enumerate(real_blocks(*args, **kwargs)):
            if number == 5:
                raise ConnectionError("export share went away")
            yield block

    with connect() as conn:
        first = _land(conn, path.parent.parent, "run1")
        # Blocks of 500 characters: the share goes away after five, mid-file.
        monkeypatch.setattr(csv_landing, "BLOCK", 500)
        monkeypatch.setattr(csv_landing, "_blocks", read_then_break)
        with pytest.raises(ConnectionError):
            _land(conn, path.parent.parent, "run2")
        kept = conn.execute(
            "select count(*), min(batch_id) from raw.call_center_contacts"
        ).fetchone()
    assert kept == (first.rows_loaded, "run1/extract_call_center")


def test_two_runs_landing_the_same_day_at_once_do_not_double_it(clean_warehouse, delivery):
    """A rerun racing a backfill of the same day: each lands whole, one after the other."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    path, _, _ = delivery
    with connect() as conn:
        expected = _land(conn, path.parent.parent, "warmup")  # the schema exists
    barrier = threading.Barrier(4)

    def land(run_id: str):
        with connect() as conn:
            barrier.wait()
            return _land(conn, path.parent.parent, run_id)

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(land, f"race{i}") for i in range(4)]
    # .result() re-raises a landing's error here (a deadlock, a duplicate manifest row).
    assert all(f.result().rows_loaded == expected.rows_loaded for f in futures)
    with connect() as conn:
        counts = conn.execute(
            "select (select count(*) from raw.call_center_contacts),"
            " (select count(distinct batch_id) from raw.call_center_contacts),"
            " (select count(*) from raw.batch_manifest),"
            " (select count(*) from raw.quarantine)"
        ).fetchone()
    assert counts == (expected.rows_loaded, 1, 1, expected.rows_quarantined)
