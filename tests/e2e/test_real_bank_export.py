"""A real vendor export through the daily DAG by configuration only.

The "Anonymous Bank" call-center records (data/anonymous_bank, a copy of
../shared/data/real) are read with
mappings/anonymous_bank/call_center.yml for all 28 days of February 1999, with only the
call-center source configured (27 days landed by the DAG's extract, the last day run by the
DAG itself, which builds, audits and publishes). Every agent-day figure is then recomputed
independently from the raw file with pandas (sharing no code with the mapping engine) and
compared.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, empty_warehouse
from warehouse.connection import connect

pytestmark = pytest.mark.e2e
REAL_DATA = REPO_ROOT / "data" / "anonymous_bank"
EXPORT = REAL_DATA / "data_anonymous_bank_february.txt"
FCR_WINDOW = pd.Timedelta(days=7)


@pytest.fixture(scope="module")
def bank(warehouse_url, airflow_db):
    from cli.daily_runs import load_daily_dag, run_business_day
    from extractors.daily import extract

    empty_warehouse(warehouse_url)
    env = pytest.MonkeyPatch()
    env.setenv("SOURCE_LANDING_DIR", str(REAL_DATA))
    env.setenv("SOURCE_MAPPINGS_DIR", str(REPO_ROOT / "mappings" / "anonymous_bank"))
    env.setenv("ENABLED_SOURCES", "call_center")
    env.setenv("CENTER_TIMEZONE", "Asia/Jerusalem")
    env.setenv("DAILY_DAG_START_DATE", "1999-01-01")
    try:
        days = pd.date_range("1999-02-01", "1999-02-28").date
        # Days 1-27 land through the extract the DAG's task calls (a backfill without 27
        # builds); the DAG runs the last day: extract, build, audit, publish.
        for day in days[:-1]:
            start = datetime.combine(day, time(0), tzinfo=ZoneInfo("Asia/Jerusalem"))
            extract("call_center", start, start + timedelta(days=1), f"backfill__{day}", "extract")
        run = run_business_day(load_daily_dag(), days[-1], "Asia/Jerusalem")
        yield {"days": days, "runs": [run]}
    finally:
        env.undo()


def _frame(sql: str) -> pd.DataFrame:
    with connect() as conn:
        cursor = conn.execute(sql)
        return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


def _independent_reading() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(landed rows, quarantined rows) of the export, by the data set's README alone."""
    df = pd.read_csv(EXPORT, sep="\t", dtype=str)
    day = pd.to_datetime(df["date"], format="%y%m%d")

    def clock(column: str) -> pd.Series:
        moment = day + pd.to_timedelta(df[column])
        return moment.where(df[column] != "0:00:00")

    df["offered"] = day + pd.to_timedelta(df["vru_entry"])
    for name, column in (("answered", "ser_start"), ("ended", "ser_exit")):
        moment = clock(column)
        crossed = moment < df["offered"] - pd.Timedelta(hours=12)  # past midnight
        df[name] = moment.where(~crossed, moment + pd.Timedelta(days=1))
    df["business_date"] = day.dt.date
    answered_call = df["outcome"] == "AGENT"
    quarantined = (
        (df["outcome"] == "PHANTOM")
        | (answered_call & (df["server"] == "NO_SERVER"))
        | (answered_call & df["answered"].isna())
        | (df["answered"] < df["offered"])
        | (df["ended"] < df["answered"])
    )
    return df[~quarantined].copy(), df[quarantined].copy()


def test_all_28_days_land_and_reconcile(bank):
    landed, quarantined = _independent_reading()
    manifest = _frame(
        "select batch_date, rows_read, rows_loaded, rows_quarantined from raw.batch_manifest"
        " where source_system = 'call_center' order by batch_date"
    )
    assert list(manifest.batch_date) == list(bank["days"])
    assert manifest.rows_read.sum() == 33344
    assert (manifest.rows_read == manifest.rows_loaded + manifest.rows_quarantined).all()
    expected_loaded = landed.groupby("business_date").size()
    expected_quarantined = quarantined.groupby("business_date").size()
    for row in manifest.itertuples():
        assert row.rows_loaded == expected_loaded[row.batch_date]
        assert row.rows_quarantined == expected_quarantined.get(row.batch_date, 0)
    reasons = _frame("select reason, count(*) as n from raw.quarantine group by reason")
    reasons = dict(zip(reasons.reason, reasons.n, strict=True))
    # The README's dirt: 491 AGENT rows without a server; the 278 PHANTOM calls and 50 AGENT
    # rows without a service time are found on top of it.
    assert reasons == {
        "an answered contact needs an agent: none given": 491,
        "phantom call: logged by the ACD but no call took place": 278,
        "an answered contact needs an answer time: none given": 50,
    }
    flags = _frame(
        "select flag, count(*) as n from raw.call_center_contacts,"
        " unnest(string_to_array(quality_flags, ',')) as flag group by flag"
    )
    flags = dict(zip(flags.flag, flags.n, strict=True))
    negative_vru = landed["vru_time"].astype(int) < 0
    hang_served = (landed["outcome"] == "HANG") & (landed["ser_time"].astype(int) > 0)
    assert flags == {
        "negative_vru_time": negative_vru.sum(),
        "hang_up_with_service_time": hang_served.sum(),
    }
    assert flags["hang_up_with_service_time"] == 97
    assert _frame("select count(*) as n from staging.stg_call_center__contacts").n[0] == len(landed)


def test_every_agent_day_equals_a_pandas_recomputation(bank):
    landed, _ = _independent_reading()
    landed["customer"] = landed["customer_id"].where(landed["customer_id"] != "0")

    # A strictly later contact of the same identified customer within 7 days: not resolved.
    def next_later(times: pd.Series) -> pd.Series:
        ordered = times.sort_values().to_numpy()
        found = ordered.searchsorted(times.to_numpy(), side="right")
        padded = list(ordered) + [pd.NaT]
        return pd.Series([padded[i] for i in found], index=times.index)

    identified = landed["customer"].notna()
    later = landed[identified].groupby("customer")["offered"].transform(next_later)
    landed["repeated"] = False
    landed.loc[identified, "repeated"] = (later - landed.loc[identified, "offered"]) <= FCR_WINDOW
    handled = landed[landed["outcome"] == "AGENT"].copy()
    handled["wait"] = handled["q_time"].astype(int)
    handled["talk"] = handled["ser_time"].astype(int)
    handled["first_response"] = (handled["answered"] - handled["offered"]).dt.total_seconds()
    handled["eligible"] = handled["customer"].notna()
    handled["resolved"] = handled["eligible"] & ~handled["repeated"]
    expected = (
        handled.groupby(["server", "business_date"])
        .agg(
            contacts_handled=("call_id", "size"),
            queue_wait_seconds_sum=("wait", "sum"),
            talk_seconds_sum=("talk", "sum"),
            first_response_seconds_sum=("first_response", "sum"),
            fcr_eligible_count=("eligible", "sum"),
            fcr_resolved_count=("resolved", "sum"),
        )
        .reset_index()
        .rename(columns={"server": "agent_id"})
    )
    got = _frame(
        "select agent_id, business_date, contacts_handled, phone_contacts_handled,"
        " queue_wait_count, queue_wait_seconds_sum, talk_seconds_sum, handle_seconds_sum,"
        " handle_count,"
        " first_response_seconds_sum, fcr_eligible_count, fcr_resolved_count"
        " from reporting.agent_days"
    )
    merged = expected.merge(got, on=["agent_id", "business_date"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert len(merged) == 385  # agent-days worked in the month, as the file has them
    for column in (
        "contacts_handled",
        "queue_wait_seconds_sum",
        "talk_seconds_sum",
        "first_response_seconds_sum",
        "fcr_eligible_count",
        "fcr_resolved_count",
    ):
        assert (merged[f"{column}_x"].astype(float) == merged[f"{column}_y"].astype(float)).all(), (
            column
        )
    # ASA and AHT denominators are the handled calls; AHT here is talk time only.
    assert (merged["queue_wait_count"] == merged["contacts_handled_x"]).all()
    assert (merged["handle_count"] == merged["contacts_handled_x"]).all()
    assert (merged["phone_contacts_handled"] == merged["contacts_handled_x"]).all()
    assert (merged["handle_seconds_sum"] == merged["talk_seconds_sum_y"]).all()


def test_abandoned_in_queue_per_queue_day_equals_pandas(bank):
    landed, _ = _independent_reading()
    landed["in_queue"] = (landed["outcome"] == "HANG") & (landed["q_time"].astype(int) > 0)
    expected = landed.groupby(["type", "business_date"]).agg(
        offered_count=("call_id", "size"), abandoned_in_queue_count=("in_queue", "sum")
    )
    got = _frame(
        "select queue_name as type, business_date, offered_count, abandoned_in_queue_count"
        " from reporting.queue_days"
    ).set_index(["type", "business_date"])
    assert got.sort_index().astype(int).equals(expected.sort_index().astype(int))
    assert expected["abandoned_in_queue_count"].sum() > 1000


def test_what_the_source_cannot_provide_is_not_available_not_zero(bank):
    missing = _frame(
        "select count(*) filter (where hold_seconds_sum is not null or acw_seconds_sum is not null"
        " or csat_response_count is not null or qa_inspection_count is not null"
        " or tickets_due_count is not null or email_contacts_handled is not null) as present,"
        " count(*) as agent_days from reporting.agent_days"
    )
    assert missing.present[0] == 0 and missing.agent_days[0] > 0
    kpis = _frame(
        "select kpi_code, bool_or(kpi_value is not null) as has_value, bool_or(is_scored) as scored"
        " from reporting.agent_month_kpis group by kpi_code"
    ).set_index("kpi_code")
    for unavailable in ("qa_score", "csat", "nps", "ticket_on_time_rate", "complaint_rate"):
        assert not kpis.loc[unavailable, "has_value"] and not kpis.loc[unavailable, "scored"]
    for available in ("first_response_time", "average_handle_time", "first_contact_resolution"):
        assert kpis.loc[available, "has_value"]
    cards = _frame(
        "select agent_id, unscored_kpis, grade, center_rank, total_score, is_ranked, working_days"
        " from reporting.agent_month_scorecards"
    )
    assert len(cards) == 24  # the 24 named agents
    assert cards.unscored_kpis.str.contains("csat").all()
    # Only agents with at least 10 working days are ranked (a part-timer is scored, not ranked).
    assert (cards.is_ranked == (cards.working_days >= 10)).all()
    assert cards[~cards.is_ranked].center_rank.isna().all()
    ranked = cards[cards.is_ranked]
    assert 0 < len(ranked) < 24
    expected = ranked.total_score.astype(float).rank(method="min", ascending=False)
    assert (ranked.center_rank.astype(int) == expected.astype(int)).all()


def test_a_published_kpi_traces_to_lines_of_the_real_file(bank):
    """The handle time of the busiest agent's month lists exactly the file lines behind it."""
    from warehouse.trace import trace

    kpi = _frame(
        "select agent_id, denominator from reporting.agent_month_kpis"
        " where kpi_code = 'average_handle_time' order by denominator desc, agent_id limit 1"
    ).iloc[0]
    with connect() as conn:
        records = trace(
            conn, kpi.agent_id, pd.Timestamp("1999-02-01").date(), "average_handle_time"
        )
    assert len(records) == int(kpi.denominator) > 100
    assert {r.source_object for r in records} == {EXPORT.name}
    lines = EXPORT.read_text().splitlines()
    header = lines[0].split("\t")
    for record in records:
        fields = dict(zip(header, lines[int(record.source_position) - 1].split("\t"), strict=True))
        assert fields["server"] == kpi.agent_id
        assert fields["outcome"] == "AGENT"
        assert record.record_key.endswith(fields["call_id"])
