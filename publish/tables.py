"""How one `reporting` table is replaced so that what users built on it keeps working.

The mechanism is replacing the rows in the publish's one transaction, never the table:
`delete` and `insert` take row locks only, so a BI query, even a session left idle in a
transaction, goes on reading the previous rows until the publish commits and neither
waits for the other; the table itself (its oid) stays, so an analyst's view on it, a BI
tool's saved query and every role's grants keep working and see the new rows. Versioned
schemas behind views were the alternative; they would swap views (DDL, an exclusive
lock on each view readers hold) on every publish, and a user's own view on a versioned
table would still point at an old version.

A table's shape changes only with its model's contract (dbt_project/models/marts):
- a new column is added (`alter table add column`: a catalog change, instant), rows are
  inserted by column name and every view keeps working;
- a removed or retyped column recreates the table, with its grants, if nothing depends on
  it; if a view does, the publish is refused naming the views (`ShapeChangeRefused`): a
  user's view is never dropped behind their back.
Only those two, and a table's first publish, take the table to themselves; they wait for
readers at most PUBLISH_LOCK_TIMEOUT_SECONDS and then fail naming the sessions in the
way (`PublishBlocked`), so BI queries never queue behind a publish for longer.

Descriptions (dbt `persist_docs` on the marts, or a close table's own comments) and the
indexes dashboards filter by (the marts' indexes, from dbt `indexes:` configs) are copied
onto the reporting table; both only when they differ, and neither blocks readers.
"""

from __future__ import annotations

import os

import psycopg
from psycopg import sql

from warehouse.catalog import table_exists, typed_columns


class PublishBlocked(RuntimeError):
    """A reporting table's shape must change and readers kept it past the bound."""


class ShapeChangeRefused(RuntimeError):
    """A reporting table would lose or retype a column that users' views depend on."""


def replace_table(
    conn: psycopg.Connection,
    name: str,
    source: sql.Composable,
    described_by: tuple[str, str] | None = None,
) -> int:
    """Make reporting.<name> hold the rows of `source`, in the caller's transaction, and
    return its row count. `described_by` (schema, table): the relation whose comments and
    indexes the reporting table takes. The one way `reporting` is written."""
    target = sql.Identifier("reporting", name)
    conn.execute(
        sql.SQL("create temporary table publish_shape on commit drop as {} limit 0").format(
            sql.SQL("select * from ({}) as source").format(source)
        )
    )
    wanted = typed_columns(conn, "pg_temp", "publish_shape")
    conn.execute("drop table publish_shape")
    if not table_exists(conn, f"reporting.{name}"):
        with _bounded(conn, name):
            _create(conn, target, wanted)
    else:
        _evolve(conn, name, wanted)
    columns = sql.SQL(", ").join(sql.Identifier(n) for n, _ in wanted)
    conn.execute(sql.SQL("delete from {}").format(target))
    count = conn.execute(
        sql.SQL("insert into {} ({}) select {} from ({}) as source").format(
            target, columns, columns, source
        )
    ).rowcount
    if described_by:
        _describe(conn, name, described_by)
        _mirror_indexes(conn, name, described_by)
    return count


def _create(conn: psycopg.Connection, target: sql.Identifier, columns) -> None:
    conn.execute(
        sql.SQL("create table {} ({})").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in columns
            ),
        )
    )


def _evolve(conn: psycopg.Connection, name: str, wanted: list[tuple[str, str]]) -> None:
    """Bring reporting.<name>'s columns to `wanted`: add new ones; recreate the table for a
    removed or retyped one unless views depend on it."""
    current = dict(typed_columns(conn, "reporting", name))
    wanted_types = dict(wanted)
    changed = [
        f"{column} {type_} -> {wanted_types[column]}"
        if column in wanted_types
        else f"{column} {type_} (no longer published)"
        for column, type_ in current.items()
        if wanted_types.get(column) != type_
    ]
    added = [(column, type_) for column, type_ in wanted if column not in current]
    if not changed and not added:
        return
    target = sql.Identifier("reporting", name)
    if not changed:
        with _bounded(conn, name):
            for column, type_ in added:
                conn.execute(
                    sql.SQL("alter table {} add column {} {}").format(
                        target, sql.Identifier(column), sql.SQL(type_)
                    )
                )
        return
    views = _dependent_views(conn, name)
    if views:
        raise ShapeChangeRefused(
            f"reporting.{name} changes shape ({'; '.join(changed)}) and views depend on it:"
            f" {', '.join(views)}. Nothing was published. Drop or adapt those views (or"
            " publish the change as a new model version beside the old one), then rerun."
        )
    grants = _grants(conn, name)
    staged = sql.Identifier("reporting", f"{name}__publishing")
    with _bounded(conn, name):
        conn.execute(sql.SQL("drop table if exists {}").format(staged))
        _create(conn, staged, wanted)
        conn.execute(sql.SQL("drop table {}").format(target))
        conn.execute(sql.SQL("alter table {} rename to {}").format(staged, sql.Identifier(name)))
        for grantee, privilege in grants:
            conn.execute(
                sql.SQL("grant {} on {} to {}").format(
                    sql.SQL(privilege),
                    target,
                    sql.SQL("public") if grantee is None else sql.Identifier(grantee),
                )
            )


class _bounded:
    """A savepoint in which DDL waits for readers PUBLISH_LOCK_TIMEOUT_SECONDS at most."""

    def __init__(self, conn: psycopg.Connection, name: str) -> None:
        self.conn, self.name = conn, name

    def __enter__(self) -> None:
        self.savepoint = self.conn.transaction()
        self.savepoint.__enter__()
        self.conn.execute(
            sql.SQL("set local lock_timeout = {}").format(sql.Literal(_lock_timeout()))
        )

    def __exit__(self, kind, error, traceback) -> bool:
        if error is None:
            self.conn.execute("set local lock_timeout = default")
        self.savepoint.__exit__(kind, error, traceback)
        if isinstance(error, psycopg.errors.LockNotAvailable):
            raise PublishBlocked(
                f"reporting.{self.name} must change shape, but sessions kept it past"
                f" {_lock_timeout()} ({_readers(self.conn, self.name)}); nothing was"
                " published; the task's retry tries again"
            ) from None
        return False


def _lock_timeout() -> str:
    return f"{int(float(os.environ.get('PUBLISH_LOCK_TIMEOUT_SECONDS', '30')) * 1000)}ms"


def _readers(conn: psycopg.Connection, name: str) -> str:
    rows = conn.execute(
        "select a.pid, a.usename, a.state, a.xact_start from pg_locks as l"
        " join pg_stat_activity as a on a.pid = l.pid"
        " where l.relation = to_regclass(%s) and l.granted and a.pid <> pg_backend_pid()",
        (f"reporting.{name}",),
    ).fetchall()
    return (
        "; ".join(
            f"pid {pid} of {user}, {state} since {since:%F %T%z}"
            for pid, user, state, since in rows
        )
        or "sessions since gone"
    )


def _dependent_views(conn: psycopg.Connection, name: str) -> list[str]:
    """Views (and materialized views) whose definition reads reporting.<name>."""
    rows = conn.execute(
        "select distinct view.oid::regclass::text from pg_depend as dep"
        " join pg_rewrite as rule on rule.oid = dep.objid"
        " join pg_class as view on view.oid = rule.ev_class"
        " where dep.classid = 'pg_rewrite'::regclass and dep.refobjid = %s::regclass"
        " and view.oid <> dep.refobjid order by 1",
        (f"reporting.{name}",),
    ).fetchall()
    return [view for (view,) in rows]


def _grants(conn: psycopg.Connection, name: str) -> list[tuple[str | None, str]]:
    """(grantee, privilege) granted on reporting.<name> to roles other than its owner
    (grantee None: PUBLIC)."""
    return conn.execute(
        "select case when acl.grantee = 0 then null else acl.grantee::regrole::text end,"
        " acl.privilege_type from pg_class as rel, aclexplode(rel.relacl) as acl"
        " where rel.oid = %s::regclass and acl.grantee <> rel.relowner",
        (f"reporting.{name}",),
    ).fetchall()


def _describe(conn: psycopg.Connection, name: str, described_by: tuple[str, str]) -> None:
    """Give reporting.<name> the table's and each column's comment of `described_by`."""
    describe(conn, name, _comments(conn, '"{}"."{}"'.format(*described_by)))


def describe(conn: psycopg.Connection, name: str, comments: dict[str | None, str | None]) -> None:
    """Set reporting.<name>'s comments (key None: the table's; others: a column's) where
    they differ. COMMENT locks out other DDL only, never readers or writers."""
    current = _comments(conn, f'reporting."{name}"')
    target = sql.Identifier("reporting", name)
    for column, comment in comments.items():
        if (column is not None and column not in current) or current.get(column) == comment:
            continue
        on = (
            sql.SQL("table {}").format(target)
            if column is None
            else sql.SQL("column {}.{}").format(target, sql.Identifier(column))
        )
        conn.execute(sql.SQL("comment on {} is {}").format(on, sql.Literal(comment)))


def _comments(conn: psycopg.Connection, relation: str) -> dict[str | None, str | None]:
    return dict(
        conn.execute(
            "select null::text, obj_description(%(rel)s::regclass, 'pg_class')"
            " union all select attname::text, col_description(attrelid, attnum)"
            " from pg_attribute where attrelid = %(rel)s::regclass and attnum > 0"
            " and not attisdropped",
            {"rel": relation},
        ).fetchall()
    )


def _mirror_indexes(conn: psycopg.Connection, name: str, described_by: tuple[str, str]) -> None:
    """Create on reporting.<name> each plain-column index `described_by` has and it lacks
    (same columns, same uniqueness). Creating one blocks writers, never readers."""
    query = (
        "select ix.indisunique, array_agg(att.attname::text order by key.ord)"
        " from pg_index as ix"
        " cross join unnest(ix.indkey) with ordinality as key (attnum, ord)"
        " join pg_attribute as att on att.attrelid = ix.indrelid and att.attnum = key.attnum"
        " where ix.indrelid = %s::regclass and ix.indexprs is null and ix.indpred is null"
        " group by ix.indexrelid, ix.indisunique"
    )
    have = {
        (unique, tuple(columns))
        for unique, columns in conn.execute(query, (f'reporting."{name}"',)).fetchall()
    }
    wanted = conn.execute(query, ('"{}"."{}"'.format(*described_by),)).fetchall()
    for unique, columns in wanted:
        if (unique, tuple(columns)) in have:
            continue
        index = f"{name}__{'__'.join(columns)}"[:63]
        conn.execute(
            sql.SQL("create {}index {} on {} ({})").format(
                sql.SQL("unique " if unique else ""),
                sql.Identifier(index),
                sql.Identifier("reporting", name),
                sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            )
        )


def grant_bi_reader(conn: psycopg.Connection) -> None:
    """The read-only BI role (BI_READER_ROLE, default bi_reader) may read `reporting` and
    nothing else. It logs in with BI_READER_PASSWORD; without one it is created without
    login (a DBA can set its password). Granted on every publish: a table new to
    `reporting` is readable from the publish that creates it."""
    role = os.environ.get("BI_READER_ROLE", "bi_reader")
    password = os.environ.get("BI_READER_PASSWORD")
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    if password:
        conn.execute(
            sql.SQL("alter role {} login password {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    conn.execute(sql.SQL("grant usage on schema reporting to {}").format(sql.Identifier(role)))
    conn.execute(
        sql.SQL("grant select on all tables in schema reporting to {}").format(sql.Identifier(role))
    )
