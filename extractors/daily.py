"""What each daily extract task does: find the run's business day, build the batch, land it.

The DAG passes its data interval and run identity; everything else comes from
`SourceSettings` and the warehouse connection, so the same code runs under Airflow,
the CLI and the tests. Every source lands the same way: each raw table it delivers is
read by its mapping from whatever delivery the mapping names (extractors/deliveries.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import import_module
from pathlib import Path

import psycopg

from extractors.batch import business_day, make_batch
from extractors.contracts import CONTRACTS, DEFAULT_TABLE
from extractors.deliveries import Places, fingerprints, land_table
from extractors.mapping import ApiDelivery, SourceMapping, load_mapping
from extractors.settings import ALL_SOURCES, SourceSettings
from warehouse.connection import connect
from warehouse.landing import Batch, BatchSummary, BatchWriter

log = logging.getLogger(__name__)
SOURCES = ALL_SOURCES


class SourceNotConfigured(Exception):
    """This center does not have the source (ENABLED_SOURCES): nothing to extract."""


def source_rules(source_system: str) -> dict[str, list[tuple[str, str]]]:
    """raw table -> the contract's own rules (SQL) of each table the source can fill."""
    return import_module(f"extractors.{source_system}.rules").TABLES


def table_columns(table: str) -> tuple[str, ...]:
    """The columns a raw table's landing writes: the contract's fields (and, for contacts,
    the row rules' quality flags)."""
    source = next(s for s in ALL_SOURCES if table in source_rules(s))
    rules = import_module(f"extractors.{source}.rules")
    return getattr(rules, "COLUMNS", {}).get(table) or tuple(f.name for f in CONTRACTS[table])


def source_mappings(source_system: str, mappings_dir: Path) -> dict[str, SourceMapping]:
    """The mapping of every raw table the center delivers for the source: `<table>.yml`
    (or `<source>.yml` for a source of one table). A table without one is not delivered:
    the KPIs built on it are "not available". A mapping mistake stops here with every
    problem listed, before any landing."""
    found = {}
    for table in source_rules(source_system):
        names = [f"{table}.yml"]
        if DEFAULT_TABLE.get(source_system) == table:
            names.insert(0, f"{source_system}.yml")
        for name in names:
            path = mappings_dir / name
            if path.is_file():
                mapping = load_mapping(path)
                if mapping.source_system != source_system or mapping.raw_table != table:
                    raise ValueError(
                        f"{path}: fills {mapping.source_system}/{mapping.raw_table}, but the"
                        f" file's name says {source_system}/{table}"
                    )
                found[table] = mapping
                break
    if not found:
        expected = [f"{t}.yml" for t in source_rules(source_system)]
        raise ValueError(
            f"{source_system} is enabled but {mappings_dir} holds no mapping for it"
            f" (one of {expected}); or leave it out of ENABLED_SOURCES"
        )
    return found


def land_source(
    conn: psycopg.Connection,
    batch: Batch,
    settings: SourceSettings,
    mappings: dict[str, SourceMapping] | None = None,
) -> BatchSummary:
    """Land one source's batch: every table it delivers, in one transaction."""
    source = batch.source_system
    mappings = mappings or source_mappings(source, settings.mappings_dir)
    return land_mappings(conn, batch, mappings, settings.places(source))


def land_mappings(
    conn: psycopg.Connection, batch: Batch, mappings: dict[str, SourceMapping], places: Places
) -> BatchSummary:
    """Land the batch of each raw table -> its mapping, from `places`, in one transaction."""
    rules = source_rules(batch.source_system)
    with BatchWriter(conn, batch, list(mappings)) as writer:
        for table, mapping in mappings.items():
            land_table(writer, mapping, table_columns(table), rules[table], places)
    return writer.summary()


def extract(
    source_system: str,
    interval_start: datetime,
    interval_end: datetime,
    run_id: str,
    task_id: str,
    settings: SourceSettings | None = None,
    logical_date: datetime | None = None,
) -> dict:
    settings = settings or SourceSettings.from_env()
    if source_system not in settings.enabled_sources:
        raise SourceNotConfigured(
            f"{source_system} is not in ENABLED_SOURCES {settings.enabled_sources}"
        )
    if source_system not in SOURCES:
        raise ValueError(f"unknown source system {source_system!r}; known: {SOURCES}")
    day = business_day(interval_start, interval_end, settings.timezone, logical_date)
    batch = make_batch(source_system, day, settings.timezone, run_id, task_id, datetime.now(UTC))
    mappings = source_mappings(source_system, settings.mappings_dir)
    lookback = max(
        (
            getattr(m.delivery, "lookback_days", 0)
            for m in mappings.values()
            if not isinstance(m.delivery, ApiDelivery)  # an API widens its cursor instead
        ),
        default=0,
    )
    with connect() as conn:
        reader = _Reader(
            lambda batch: land_source(conn, batch, settings, mappings),
            lambda batch: _fingerprints(mappings, settings, batch),
            lookback,
        )
        summary = reader.land(batch)
        _log_landed(summary)
        relanded = _reland_changed_days(conn, reader, batch, run_id, task_id, settings)
    return {**asdict(summary), "relanded": [asdict(s) for s in relanded]}


@dataclass(frozen=True)
class _Reader:
    """How one source lands a batch and what a day's delivery holds now."""

    land: Callable[[Batch], BatchSummary]
    fingerprints: Callable[[Batch], dict | None]
    lookback_days: int = 0


def _fingerprints(mappings, settings: SourceSettings, batch: Batch) -> dict | None:
    """{source object: checksum} of the batch's day in every table's delivery now (files,
    database tables); None when only APIs deliver (they widen their cursor instead)."""
    places = settings.places(batch.source_system)
    found = [fingerprints(m, places, batch) for m in mappings.values()]
    known = [f for f in found if f is not None]
    return {k: v for f in known for k, v in f.items()} if known else None


def _landed_subset(landed: dict, now: dict) -> dict:
    """The landed fingerprints comparable with `now`: objects with a checksum."""
    return {k: v for k, v in landed.items() if v is not None or k in now}


def _log_landed(summary) -> None:
    log.info(
        "landed %s batch %s for %s: read %s, loaded %s, quarantined %s",
        summary.source_system,
        summary.batch_id,
        summary.batch_date,
        summary.rows_read,
        summary.rows_loaded,
        summary.rows_quarantined,
    )


def _landed_fingerprints(conn, source_system: str, day: date) -> dict:
    rows = conn.execute(
        "select source_object, file_checksum from raw.batch_manifest"
        " where source_system = %s and batch_date = %s",
        (source_system, day),
    ).fetchall()
    return dict(rows)


def _reland_changed_days(
    conn, reader: _Reader, batch: Batch, run_id: str, task_id: str, settings: SourceSettings
) -> list[BatchSummary]:
    """Late data: re-read the source's lookback days (the mapping's `lookback_days`) and
    re-land each day already landed whose source content changed since (a late or
    corrected delivery). A day's batch stays the source's records of that day, so reruns,
    backfills in any order and day-by-day runs land the same rows, none twice."""
    relanded = []
    for back in range(reader.lookback_days, 0, -1):
        earlier = batch.batch_date - timedelta(days=back)
        landed = _landed_fingerprints(conn, batch.source_system, earlier)
        if not landed:
            continue  # never run: that day's own run lands it
        again = make_batch(
            batch.source_system,
            earlier,
            settings.timezone,
            run_id,
            f"{task_id}@{earlier.isoformat()}",
            datetime.now(UTC),
        )
        now = reader.fingerprints(again)
        if not now or now == _landed_subset(landed, now):
            continue
        log.info(
            "%s for %s changed since it was landed: landing it again", batch.source_system, earlier
        )
        summary = reader.land(again)
        _log_landed(summary)
        relanded.append(summary)
    return relanded
