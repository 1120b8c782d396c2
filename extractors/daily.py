"""What each daily extract task does: find the run's business day, build the batch, land it.

The DAG passes its data interval and run identity; everything else comes from
`SourceSettings` and the warehouse connection, so the same code runs under Airflow,
the CLI and the tests.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import import_module

from extractors.batch import business_day, make_batch
from extractors.mapping import load_mapping
from extractors.settings import ALL_SOURCES, SourceSettings
from warehouse.connection import connect

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
) -> dict:
    settings = settings or SourceSettings.from_env()
    if source_system not in settings.enabled_sources:
        raise SourceNotConfigured(
            f"{source_system} is not in ENABLED_SOURCES {settings.enabled_sources}"
        )
    day = business_day(interval_start, interval_end, settings.timezone)
    batch = make_batch(source_system, day, settings.timezone, run_id, task_id, datetime.now(UTC))
    with connect() as conn:
        if source_system in MAPPED_FILE_SOURCES:
            # A mapping mistake stops here with every problem listed, before any landing.
            mapping = load_mapping(settings.mappings_dir / f"{source_system}.yml")
            source = import_module(f"extractors.{source_system}.extract")
            summary = source.run(conn, batch, settings.landing_dir, mapping)
        elif source_system == "crm":
            from extractors.crm import extract as source
            from extractors.crm.client import CrmClient
            from extractors.crm.parse import CRM_TABLES

            mappings = {t: load_mapping(settings.mappings_dir / f"{t}.yml") for t in CRM_TABLES}
            summary = source.run(conn, batch, CrmClient(settings.crm_api_url), mappings)
        elif source_system == "qa":
            from extractors.qa import extract as source
            from extractors.qa.parse import QA_TABLES

            mappings = {t: load_mapping(settings.mappings_dir / f"{t}.yml") for t in QA_TABLES}
            summary = source.run(conn, batch, settings.qa_db_path, mappings)
        else:
            raise ValueError(f"unknown source system {source_system!r}; known: {SOURCES}")
    log.info(
        "landed %s batch %s for %s: read %s, loaded %s, quarantined %s",
        source_system,
        summary.batch_id,
        day,
        summary.rows_read,
        summary.rows_loaded,
        summary.rows_quarantined,
    )
    return asdict(summary)
