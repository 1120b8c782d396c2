"""Land the CRM roster snapshot and the tickets changed in the run's interval (and the
mapping's lookback days before it), each endpoint as its vendor mapping reads it: set-based
(extractors/json_landing.py), or record by record when SQL cannot read the mapping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta

import psycopg

from extractors.crm.client import CrmClient
from extractors.crm.parse import COLUMNS, CRM_TABLES, SQL_CHECKS, page_records, page_rows
from extractors.json_landing import land_records
from extractors.mapping import RowParser, SourceMapping
from extractors.mapping_sql import CompiledMapping, NotCompilable
from warehouse.landing import Batch, BatchSummary, BatchWriter, ContractError


def _pages(
    writer: BatchWriter, pages: Iterable[tuple[str, dict]], mapping: SourceMapping
) -> Iterator[tuple[str, list]]:
    """(source object, records) of every page, each registered in the manifest; a page
    without its data list, or whose records all lack a column the contract requires, stops
    the run (a renamed key would otherwise quarantine every record)."""
    delivery = mapping.delivery
    required = {c for f in mapping.contract if f.required for c in mapping.fields[f.name].columns}
    for source_object, payload in pages:
        writer.register_object(source_object)
        records = payload.get(delivery.data_key)
        if not isinstance(records, list):
            raise ValueError(f"{source_object}: response has no {delivery.data_key!r} list")
        keys = {k for record in records if isinstance(record, dict) for k in record}
        missing = sorted(required - keys) if records else []
        if missing:
            batch = writer.batch
            raise ContractError(
                batch.source_system,
                batch.batch_id,
                "required_columns",
                f"{source_object}: no record has {missing}",
            )
        yield source_object, records


def land_endpoint(
    writer: BatchWriter,
    table: str,
    pages: Iterable[tuple[str, dict]],
    mapping: SourceMapping,
    set_based: bool = True,
) -> None:
    """Land an endpoint's pages into raw.<table>: set-based, or record by record (RowParser)
    when SQL cannot read the mapping or `set_based` is off (the benchmark's reference)."""
    records = _pages(writer, pages, mapping)
    try:
        compiled = CompiledMapping(mapping, sorted(mapping.source_columns())) if set_based else None
    except NotCompilable:
        compiled = None  # a reading only Python gives (a rare strftime directive)
    if compiled is None:
        parser = RowParser(mapping)
        rows = (
            row
            for source_object, page in records
            for row in page_rows(source_object, {"data": page}, parser)
        )
        writer.land(table, COLUMNS[table], rows)
    else:
        land_records(
            writer, table, COLUMNS[table], compiled, SQL_CHECKS[table], page_records(records)
        )


def endpoint_pages(
    client: CrmClient, batch: Batch, mapping: SourceMapping
) -> Iterator[tuple[str, dict]]:
    """The pages of one endpoint for the batch: a roster whole, tickets and events changed
    in the run's interval and the mapping's lookback days before it."""
    delivery = mapping.delivery
    params = {}
    if delivery.since_param:
        since = batch.interval_start - timedelta(days=delivery.lookback_days)
        params = {
            delivery.since_param: since.isoformat(),
            delivery.before_param: batch.interval_end.isoformat(),
        }
    return client.pages(
        delivery.endpoint,
        params,
        page_param=delivery.page_param,
        page_size_param=delivery.page_size_param,
        page_size=delivery.page_size,
        next_page_key=delivery.next_page_key,
    )


def run(
    conn: psycopg.Connection, batch: Batch, client: CrmClient, mappings: dict[str, SourceMapping]
) -> BatchSummary:
    with BatchWriter(conn, batch, list(CRM_TABLES)) as writer:
        for table in CRM_TABLES:
            pages = endpoint_pages(client, batch, mappings[table])
            land_endpoint(writer, table, pages, mappings[table])
    return writer.summary()
