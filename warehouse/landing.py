"""Landing a batch in the raw schema: COPY with lineage, quarantine and a manifest.

Every extractor lands its records through `BatchWriter.land_checked`. One batch is one
source system for one business date; writing it deletes whatever an earlier run landed for the same
(source_system, batch_date) in the same transaction, so reruns and re-deliveries replace
rather than double. A row that fails to parse goes to `raw.quarantine` with its reason and
raw text, a line that is no record of the source (a skip rule) is counted, and every
source object gets a manifest row where read = loaded + quarantined + skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources

import psycopg
from psycopg import sql

from warehouse import locks

# The quarantine rule of a row whose business day is not its batch's (mapping_sql.day_rule).
OTHER_DAY_RULE = "row_on_another_day"
LINEAGE_COLUMNS = (
    "source_system",
    "source_object",
    "source_position",
    "batch_id",
    "batch_date",
    "extracted_at",
    "content_hash",
)


class ContractError(RuntimeError):
    """A source broke its contract (missing delivery, missing columns, ...): stop the run."""

    def __init__(self, source_system: str, batch_id: str, rule: str, detail: str):
        super().__init__(f"[{source_system}] batch {batch_id} broke rule '{rule}': {detail}")
        self.source_system = source_system
        self.batch_id = batch_id
        self.rule = rule


@dataclass(frozen=True)
class Batch:
    batch_id: str
    source_system: str
    batch_date: date
    interval_start: datetime
    interval_end: datetime
    extracted_at: datetime


@dataclass
class ObjectCounts:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    file_checksum: str | None = None


@dataclass
class BatchSummary:
    batch_id: str
    source_system: str
    batch_date: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_skipped: int
    objects: int


def file_checksum(path) -> str:
    """sha256 of a delivered file, for the manifest (a re-delivery shows as a new checksum)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    ddl = resources.files("warehouse").joinpath("raw_schema.sql").read_text()
    digest = hashlib.md5(ddl.encode(), usedforsecurity=False).hexdigest()
    with conn.transaction():
        # One extractor at a time creates the schema; the others wait for it. Once it is
        # current the DDL is skipped: ALTER TABLE takes an exclusive lock even when it has
        # nothing to do, which would deadlock with a landing running in parallel.
        locks.take(conn, "raw_schema")
        if conn.execute("select to_regclass('raw.schema_version') is not null").fetchone()[0]:
            current = conn.execute("select ddl_hash from raw.schema_version").fetchone()
            if current and current[0] == digest:
                return
        conn.execute(ddl)
        conn.execute("create table if not exists raw.schema_version (ddl_hash text not null)")
        conn.execute("delete from raw.schema_version")
        conn.execute("insert into raw.schema_version values (%s)", (digest,))


@dataclass
class BatchWriter:
    """Replace one source's batch for one business date, in one transaction."""

    conn: psycopg.Connection
    batch: Batch
    tables: Sequence[str]
    counts: dict[str, ObjectCounts] = field(default_factory=dict)
    table_rows: dict[str, int] = field(default_factory=dict)

    def __enter__(self) -> BatchWriter:
        ensure_raw_schema(self.conn)
        self._tx = self.conn.transaction()
        self._tx.__enter__()
        key = (self.batch.source_system, self.batch.batch_date)
        # Two runs landing the same (source, day) at once (a rerun racing a backfill) take
        # turns: without the lock each deletes only what it could see and both inserts stay.
        locks.take(self.conn, f"landing/{self.batch.source_system}/{self.batch.batch_date}")
        for table in (*self.tables, "batch_manifest", "batch_tables", "quarantine"):
            self.conn.execute(
                sql.SQL("delete from raw.{} where source_system = %s and batch_date = %s").format(
                    sql.Identifier(table)
                ),
                key,
            )
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self._refuse_other_days()
            except ContractError as error:
                self._tx.__exit__(type(error), error, error.__traceback__)
                raise
            self._write_manifest()
            self.conn.cursor().executemany(
                "insert into raw.batch_tables values (%s, %s, %s, %s, %s)",
                [
                    (
                        self.batch.batch_id,
                        self.batch.source_system,
                        self.batch.batch_date,
                        table,
                        self.table_rows.get(table, 0),
                    )
                    for table in self.tables
                ],
            )
            for table in self.tables:
                if self._statistics_outdated(table):
                    self.conn.execute(sql.SQL("analyze raw.{}").format(sql.Identifier(table)))
        self._tx.__exit__(exc_type, exc, tb)

    def _statistics_outdated(self, table: str) -> bool:
        """Whether the rows just landed are a tenth of the table or more (or it was never
        analyzed): the models and the audit that read it next must be planned on what is
        there, not on an empty table (a reconciliation once took 173 s as nested loops).
        A smaller batch leaves the statistics to autovacuum, whose threshold is the same
        tenth: sampling a long history every day costs more than the day's landing (a day
        past the statistics' last date is estimated from the batch index itself)."""
        estimated = self.conn.execute(
            "select reltuples from pg_class where oid = %s::regclass", (f"raw.{table}",)
        ).fetchone()[0]
        return estimated < 0 or 10 * self.table_rows.get(table, 0) >= estimated

    def _refuse_other_days(self) -> None:
        """Stop a batch where most rows lie on other days than its own: a wrong file
        pattern, day column or time zone, not late data (each such row is already
        quarantined with its day; a few of them land the rest)."""
        read = sum(c.rows_read - c.rows_skipped for c in self.counts.values())
        if not read:
            return
        elsewhere = self.conn.execute(
            "select count(*) from raw.quarantine where source_system = %s and batch_date = %s"
            " and rule = %s",
            (self.batch.source_system, self.batch.batch_date, OTHER_DAY_RULE),
        ).fetchone()[0]
        if 2 * elsewhere > read:
            batch = self.batch
            examples = self.conn.execute(
                "select reason from raw.quarantine where source_system = %s and batch_date = %s"
                " and rule = %s order by source_object, source_position limit 3",
                (batch.source_system, batch.batch_date, OTHER_DAY_RULE),
            ).fetchall()
            raise ContractError(
                batch.source_system,
                batch.batch_id,
                OTHER_DAY_RULE,
                f"{elsewhere} of the {read} rows read for {batch.batch_date} lie on other days,"
                f" e.g. {'; '.join(r[0] for r in examples)}. Nothing of the batch is landed:"
                " is the mapping's file_pattern, day_column or time zone right?",
            )

    def register_object(self, source_object: str, file_checksum: str | None = None) -> None:
        """Record a source object even if it holds no rows (an empty page or file)."""
        counts = self.counts.setdefault(source_object, ObjectCounts())
        if file_checksum is not None:
            counts.file_checksum = file_checksum

    def land_checked(
        self,
        table: str,
        columns: Sequence[str],
        checked: Callable[[str], str],
        lines: str,
        source_object: str | None = None,
    ) -> None:
        """Land records typed and checked in the database (extractors/mapping_sql.py).

        `checked(relation)` is a query over records (`line_no`, `line`) yielding `line_no`,
        `line` (the raw text), `reason` (NULL: the row lands) and `columns`. With
        `source_object`, every record comes from that file and sits at line `line_no + 1`
        (after the header); without, the records of many objects (API pages) carry their
        own `source_object` and `source_position`, in `lines` and in the query's rows.

        One statement writes the good rows with their lineage, then quarantines the rest
        with their reasons, so no row passes through Python. The quarantine pass reads only
        the records that did not land: the full query runs once, and nothing wide is held
        in between."""
        batch = self.batch
        if source_object is None:
            origin = "c.source_object, c.source_position"
            match = (
                "(loaded.source_object, loaded.source_position)"
                " = (l.source_object, l.source_position)"
            )
        else:
            origin = "%(object)s, (c.line_no + 1)::text"
            match = "loaded.source_position = (l.line_no + 1)::text"
        rest = f"(select * from {lines} as l where not exists (select from loaded where {match}))"
        statement = sql.SQL(
            """
            with loaded as (
                insert into raw.{table} ({targets})
                select {values}, %(system)s, {origin}, %(batch_id)s, %(day)s, %(at)s, md5(line)
                from ({everything}) as c where reason is null and not skipped
                returning source_object, source_position
            ),
            rest as (
                select * from ({quarantine}) as c where reason is not null or skipped
            ),
            quarantined as (
                insert into raw.quarantine (source_system, source_object, source_position,
                    batch_id, batch_date, rule, reason, raw_text, extracted_at, raw_table,
                    record_key, record_version_at, record_version_number)
                select %(system)s, {origin}, %(batch_id)s, %(day)s, raw.quarantine_rule(reason),
                    reason, line, %(at)s, %(table)s, record_key, record_version_at,
                    record_version_number
                from rest as c where not skipped
                returning source_object
            )
            select source_object, sum(landed)::bigint, sum(bad)::bigint, sum(skip)::bigint
            from (
                select source_object, 1 as landed, 0 as bad, 0 as skip from loaded
                union all select source_object, 0, 1, 0 from quarantined
                union all select {skipped_object}, 0, 0, 1 from rest as c where skipped
            ) as written
            group by source_object
            """
        ).format(
            table=sql.Identifier(table),
            targets=sql.SQL(", ").join(map(sql.Identifier, (*columns, *LINEAGE_COLUMNS))),
            values=sql.SQL(", ").join(map(sql.Identifier, columns)),
            origin=sql.SQL(origin),
            skipped_object=sql.SQL("c.source_object" if source_object is None else "%(object)s"),
            # The compiled query holds '%' only in literals (strftime formats): escape them.
            everything=sql.SQL(checked(lines).replace("%", "%%")),
            quarantine=sql.SQL(checked(rest).replace("%", "%%")),
        )
        written = self.conn.execute(
            statement,
            {
                "system": batch.source_system,
                "batch_id": batch.batch_id,
                "day": batch.batch_date,
                "at": batch.extracted_at,
                "object": source_object,
                "table": table,
            },
        ).fetchall()
        self.table_rows.setdefault(table, 0)
        for name, loaded, quarantined, skipped in written:
            counts = self.counts.setdefault(name, ObjectCounts())
            counts.rows_read += loaded + quarantined + skipped
            counts.rows_loaded += loaded
            counts.rows_quarantined += quarantined
            counts.rows_skipped += skipped
            self.table_rows[table] += loaded

    def summary(self) -> BatchSummary:
        return BatchSummary(
            batch_id=self.batch.batch_id,
            source_system=self.batch.source_system,
            batch_date=self.batch.batch_date.isoformat(),
            rows_read=sum(c.rows_read for c in self.counts.values()),
            rows_loaded=sum(c.rows_loaded for c in self.counts.values()),
            rows_quarantined=sum(c.rows_quarantined for c in self.counts.values()),
            rows_skipped=sum(c.rows_skipped for c in self.counts.values()),
            objects=len(self.counts),
        )

    def _write_manifest(self) -> None:
        batch = self.batch
        with self.conn.cursor() as cur:
            cur.executemany(
                "insert into raw.batch_manifest (batch_id, source_system, source_object,"
                " batch_date, interval_start, interval_end, rows_read, rows_loaded,"
                " rows_quarantined, rows_skipped, file_checksum, extracted_at)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        batch.batch_id,
                        batch.source_system,
                        source_object,
                        batch.batch_date,
                        batch.interval_start,
                        batch.interval_end,
                        c.rows_read,
                        c.rows_loaded,
                        c.rows_quarantined,
                        c.rows_skipped,
                        c.file_checksum,
                        batch.extracted_at,
                    )
                    for source_object, c in sorted(self.counts.items())
                ],
            )
