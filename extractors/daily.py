"""What each daily extract task does: find the run's business day, build the batch, land it.

The DAG passes its data interval and run identity; everything else comes from
`SourceSettings` and the warehouse connection, so the same code runs under Airflow,
the CLI and the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from importlib import import_module

from extractors.batch import business_day, make_batch
from extractors.mapping import SourceMapping, load_mapping
from extractors.settings import ALL_SOURCES, SourceSettings
from warehouse.connection import connect
from warehouse.landing import Batch, BatchSummary, file_checksum

log = logging.getLogger(__name__)
SOURCES = ALL_SOURCES
# Delivered as files and read through a vendor mapping (mappings/<vendor>/<source>.yml).
MAPPED_FILE_SOURCES = ("call_center", "survey", "supervisor")


class SourceNotConfigured(Exception):
    """This center does not have the source (ENABLED_SOURCES): nothing to extract."""


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
    day = business_day(interval_start, interval_end, settings.timezone, logical_date)
    batch = make_batch(source_system, day, settings.timezone, run_id, task_id, datetime.now(UTC))
    with connect() as conn:
        reader = _reader(source_system, conn, settings)
        summary = reader.land(batch)
        _log_landed(summary)
        relanded = _reland_changed_days(conn, reader, batch, run_id, task_id, settings)
    return {**asdict(summary), "relanded": [asdict(s) for s in relanded]}


@dataclass(frozen=True)
class _Reader:
    """How one source lands a batch and, for sources with a lookback, what a day holds now."""

    land: Callable[[Batch], BatchSummary]
    fingerprints: Callable[[Batch], dict] | None = None
    lookback_days: int = 0


def _file_fingerprints(landing_dir, mapping: SourceMapping, batch: Batch) -> dict:
    """{file name: checksum} of the batch day's export as delivered now (none: no file)."""
    path = landing_dir / batch.batch_date.strftime(mapping.delivery.file_pattern)
    return {path.name: file_checksum(path)} if path.is_file() else {}


def _reader(source_system: str, conn, settings: SourceSettings) -> _Reader:
    if source_system in MAPPED_FILE_SOURCES:
        # A mapping mistake stops here with every problem listed, before any landing.
        mapping = load_mapping(settings.mappings_dir / f"{source_system}.yml")
        source = import_module(f"extractors.{source_system}.extract")
        lookback = getattr(mapping.delivery, "lookback_days", 0)
        return _Reader(
            lambda batch: source.run(conn, batch, settings.landing_dir, mapping),
            partial(_file_fingerprints, settings.landing_dir, mapping),
            lookback,
        )
    if source_system == "crm":
        from extractors.crm import extract as source
        from extractors.crm.client import CrmClient
        from extractors.crm.parse import CRM_TABLES

        mappings = {t: load_mapping(settings.mappings_dir / f"{t}.yml") for t in CRM_TABLES}
        # The CRM widens its ticket cursor by the mapping's lookback instead.
        return _Reader(
            lambda batch: source.run(conn, batch, CrmClient(settings.crm_api_url), mappings)
        )
    if source_system == "qa":
        from extractors.qa import extract as source
        from extractors.qa.parse import QA_TABLES

        mappings = {t: load_mapping(settings.mappings_dir / f"{t}.yml") for t in QA_TABLES}
        return _Reader(
            lambda batch: source.run(conn, batch, settings.qa_db_path, mappings),
            partial(source.fingerprints, settings.qa_db_path, mappings=mappings),
            max(m.delivery.lookback_days for m in mappings.values()),
        )
    raise ValueError(f"unknown source system {source_system!r}; known: {SOURCES}")


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
        if not now or now == landed:
            continue
        log.info(
            "%s for %s changed since it was landed: landing it again", batch.source_system, earlier
        )
        summary = reader.land(again)
        _log_landed(summary)
        relanded.append(summary)
    return relanded
