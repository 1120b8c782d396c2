"""Land the CRM roster snapshot and the tickets changed in the run's interval (and the
mapping's lookback days before it), each endpoint as its vendor mapping reads it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta

import psycopg

from extractors.crm.client import CrmClient
from extractors.crm.parse import COLUMNS, CRM_TABLES, page_rows
from extractors.mapping import RowParser, SourceMapping
from warehouse.landing import Batch, BatchSummary, BatchWriter, ContractError, SourceRow


def _rows(
    writer: BatchWriter, pages: Iterable[tuple[str, dict]], mapping: SourceMapping
) -> Iterator[SourceRow]:
    parser = RowParser(mapping)
    delivery = mapping.delivery
    required = {c for f in mapping.contract if f.required for c in mapping.fields[f.name].columns}
    for source_object, payload in pages:
        writer.register_object(source_object)
        records = payload.get(delivery.data_key) or []
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
        yield from page_rows(source_object, payload, parser, delivery.data_key)


def run(
    conn: psycopg.Connection, batch: Batch, client: CrmClient, mappings: dict[str, SourceMapping]
) -> BatchSummary:
    with BatchWriter(conn, batch, list(CRM_TABLES)) as writer:
        for table in CRM_TABLES:
            mapping = mappings[table]
            delivery = mapping.delivery
            params = {}
            if delivery.since_param:
                since = batch.interval_start - timedelta(days=delivery.lookback_days)
                params = {
                    delivery.since_param: since.isoformat(),
                    delivery.before_param: batch.interval_end.isoformat(),
                }
            pages = client.pages(
                delivery.endpoint,
                params,
                page_param=delivery.page_param,
                page_size_param=delivery.page_size_param,
                page_size=delivery.page_size,
                next_page_key=delivery.next_page_key,
            )
            writer.land(table, COLUMNS[table], _rows(writer, pages, mapping))
    return writer.summary()
