"""A content snapshot of the warehouse, to compare two builds of the same days table by table.

Columns that name the run rather than the data (which run, when it ran) legitimately differ
between two builds of the same days and are left out.
"""

from __future__ import annotations

from warehouse.connection import connect

# Columns that name the run rather than the data: they legitimately change on a rerun.
#   batch_id      the landing batch, derived from the Airflow run (raw lineage, manifest)
#   extracted_at  wall-clock time of the extract
#   published_at  wall-clock time of the publish (audit.publications)
#   run_id        the Airflow run id (scheduled__/manual__/backfill__... differ by runner)
#   built_at      wall-clock time of the dbt build (marts.build_stamp)
#   built_by_run_id  the run that last rewrote an agent-day (marts.agent_days is
#                 incremental; reporting.agent_days copies it)
#   rebuilt_from  the first day the build assembled again (what that run saw change,
#                 intermediate.int_agent_days_rebuild_window)
RUN_IDENTITY_COLUMNS = frozenset(
    {
        "batch_id",
        "extracted_at",
        "published_at",
        "run_id",
        "built_at",
        "built_by_run_id",
        "rebuilt_from",
    }
)
COMPARED_SCHEMAS = ("raw", "staging", "intermediate", "marts", "reporting")


def snapshot(
    url: str | None = None,
    schemas: tuple[str, ...] = COMPARED_SCHEMAS,
    exclude: frozenset[str] = RUN_IDENTITY_COLUMNS,
) -> dict[str, tuple[int, str]]:
    """Row count and a content hash of every table and view in `schemas`, leaving out the
    `exclude` columns (a table of excluded columns only, marts.build_stamp, is left out)."""
    return {
        name: (table["rows"], table["digest"]) for name, table in _tables(url, schemas, exclude)
    }


def column_snapshot(
    url: str | None = None,
    schemas: tuple[str, ...] = COMPARED_SCHEMAS,
    exclude: frozenset[str] = RUN_IDENTITY_COLUMNS,
) -> dict[str, dict[str, object]]:
    """As `snapshot`, plus a hash of each column's sorted values: two snapshots that differ
    then say which columns differ (`differences`)."""
    return dict(_tables(url, schemas, exclude, per_column=True))


def differences(left: dict, right: dict) -> dict[str, object]:
    """What differs between two column snapshots: missing tables, row counts, columns."""
    found: dict[str, object] = {}
    for name in sorted(set(left) | set(right)):
        if name not in left or name not in right:
            found[name] = "only in " + ("right" if name not in left else "left")
            continue
        a, b = left[name], right[name]
        if a == b:
            continue
        if a["rows"] != b["rows"]:
            found[name] = f"rows {a['rows']} != {b['rows']}"
            continue
        columns = sorted(
            c
            for c in set(a["columns"]) | set(b["columns"])
            if a["columns"].get(c) != b["columns"].get(c)
        )
        found[name] = {"columns": columns} if columns else "same columns, rows combined differently"
    return found


def _tables(url, schemas, exclude, per_column=False):
    with connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(%s) order by 1, 2",
            (list(schemas),),
        ).fetchall()
        for schema, table in tables:
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = %s"
                    " and table_name = %s order by ordinal_position",
                    (schema, table),
                )
                if r[0] not in exclude
            ]
            if not columns:  # a table of run identity only (marts.build_stamp)
                continue
            row = ", ".join(f'"{c}"' for c in columns)
            expressions = [f"({row})::text as row_text"]
            aggregates = [
                "count(*)",
                "md5(coalesce(string_agg(row_text, '|' order by row_text), ''))",
            ]
            if per_column:
                for i, column in enumerate(columns):
                    expressions.append(f"coalesce(\"{column}\"::text, '<null>') as c{i}")
                    aggregates.append(f"md5(string_agg(c{i}, '|' order by c{i}))")
            result = conn.execute(
                f"select {', '.join(aggregates)} from (select {', '.join(expressions)}"
                f' from {schema}."{table}") as rows'
            ).fetchone()
            entry = {"rows": result[0], "digest": result[1]}
            if per_column:
                entry["columns"] = dict(zip(columns, result[2:], strict=True))
            yield f"{schema}.{table}", entry
