"""Independent recomputation of ticket figures from the real ServiceNow incident event log.

A test oracle: it reads data/servicenow_incidents/IT_Incident_Data.zip (UCI "Incident
management process enriched event log", file Master_Ticket_Dataset.csv) with pandas alone and
shares no code with the mapping engine (nothing from `extractors`, `warehouse` or `cli`).

Every row is one version of an incident (`number`, version `sys_mod_count`). The center's time
zone is UTC; timestamps are UTC wall times `d/m/yyyy HH:MM` without leading zeros.

Rules:

a. The pipeline lands, per business day D, the rows whose `sys_updated_at` date is D. What is
   known at the end of `through` is therefore the rows updated on a day in [first_day, through]
   (so a version's own day is always its batch's day). A row whose `sys_updated_at` does not
   parse lands on no day and is never known (the export has none).
b. A row is VALID iff: `number` is non-empty; `assigned_to` is not "" or "?"; `contact_type`
   is Phone or Email; `incident_state` is one of the eight real states (so "-100" is
   invalid); `priority` is "1 - Critical" .. "4 - Low"; `opened_at` and `sys_updated_at`
   parse; `made_sla` is "true" or "false"; `reopen_count` is digits or missing ("" / "?");
   and, only when the state is Resolved or Closed, `resolved_at` parses and is not before
   `opened_at`. In any other state `resolved_at` is ignored (the export fills it in from the
   future).
c. An incident's NEWEST version is its row with the greatest (`sys_updated_at`,
   `sys_mod_count` as int) among all known rows, valid or not. If that version is invalid the
   incident is WITHHELD and counts nowhere, not even through an older valid version. Rows tied
   exactly on that key all count as the newest version: if any of them is invalid the incident
   is withheld; if valid tied rows disagree on a field the figures use, a ValueError is raised.
d. A non-withheld incident whose newest version is Resolved or Closed is DUE on the date of
   its `resolved_at`, for agent `assigned_to`; it is ON TIME iff `made_sla` is "true".
   Incidents in any other state are not due yet, and neither is one whose `resolved_at`
   lies after `through` (the export writes some resolution times days ahead of the version
   that reports them: the outcome is known only once that day has been run).
"""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pandas as pd

CSV_NAME = "Master_Ticket_Dataset.csv"
TIME_FORMAT = "%d/%m/%Y %H:%M"
STATES = {
    "New",
    "Active",
    "Awaiting User Info",
    "Awaiting Vendor",
    "Awaiting Problem",
    "Awaiting Evidence",
    "Resolved",
    "Closed",
}
DONE_STATES = {"Resolved", "Closed"}
PRIORITIES = {"1 - Critical", "2 - High", "3 - Moderate", "4 - Low"}
CONTACT_TYPES = {"Phone", "Email"}
# The fields the figures read from a newest version (rule d).
USED_FIELDS = ["incident_state", "assigned_to", "resolved_at", "made_sla"]
COLUMNS = ["agent_id", "business_date", "tickets_due_count", "tickets_on_time_count"]


def load_events(zip_path: str | Path) -> pd.DataFrame:
    """The event log, every column as text, nothing read as missing."""
    with zipfile.ZipFile(zip_path) as archive, archive.open(CSV_NAME) as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def _time(values: pd.Series) -> pd.Series:
    """`d/m/yyyy HH:MM` as a timestamp, NaT where it does not parse."""
    return pd.to_datetime(values, format=TIME_FORMAT, errors="coerce")


def _known(events: pd.DataFrame, first_day: date, through: date) -> pd.DataFrame:
    """Rule a: the rows landed by the end of `through`, with parsed times and validity."""
    rows = events.copy()
    rows["_updated"] = _time(rows["sys_updated_at"])
    rows["_opened"] = _time(rows["opened_at"])
    rows["_resolved"] = _time(rows["resolved_at"])
    day = rows["_updated"].dt.date
    rows = rows[rows["_updated"].notna() & (day >= first_day) & (day <= through)].copy()
    done = rows["incident_state"].isin(DONE_STATES)
    resolved_ok = rows["_resolved"].notna() & (rows["_resolved"] >= rows["_opened"])
    rows["_valid"] = (
        (rows["number"] != "")
        & ~rows["assigned_to"].isin(["", "?"])
        & rows["contact_type"].isin(CONTACT_TYPES)
        & rows["incident_state"].isin(STATES)
        & rows["priority"].isin(PRIORITIES)
        & rows["_opened"].notna()
        & rows["made_sla"].isin({"true", "false"})
        & (rows["reopen_count"].str.fullmatch(r"\d+") | rows["reopen_count"].isin(["", "?"]))
        & (~done | resolved_ok)
    )
    rows["_version"] = pd.to_numeric(rows["sys_mod_count"], errors="coerce")
    return rows


def _newest(rows: pd.DataFrame) -> pd.DataFrame:
    """Rule c: every row tied on the greatest (sys_updated_at, sys_mod_count) per incident.

    A version number that is not an integer sorts below every real one."""
    key = rows[["number", "_updated"]].assign(_version=rows["_version"].fillna(-1))
    top_time = key.groupby("number")["_updated"].transform("max")
    at_top = key["_updated"] == top_time
    top_version = key["_version"].where(at_top).groupby(key["number"]).transform("max")
    return rows[at_top & (key["_version"] == top_version)]


def withheld_incidents(events: pd.DataFrame, first_day: date, through: date) -> set[str]:
    """Incidents whose newest known version (or any row tied with it) is invalid."""
    newest = _newest(_known(events, first_day, through))
    return set(newest.loc[~newest["_valid"], "number"])


def expected_ticket_days(events: pd.DataFrame, first_day: date, through: date) -> pd.DataFrame:
    """Tickets due and on time per (agent, resolution day), as known at the end of `through`."""
    newest = _newest(_known(events, first_day, through))
    withheld = set(newest.loc[~newest["_valid"], "number"])
    newest = newest[~newest["number"].isin(withheld)]
    disagree = newest.groupby("number")[USED_FIELDS].nunique().gt(1).any(axis=1)
    if disagree.any():
        raise ValueError(f"tied newest versions disagree: {sorted(disagree[disagree].index)}")
    newest = newest.drop_duplicates("number")
    known_until = pd.Timestamp(through) + pd.Timedelta(days=1)
    due = newest[newest["incident_state"].isin(DONE_STATES) & (newest["_resolved"] < known_until)]
    frame = pd.DataFrame(
        {
            "agent_id": due["assigned_to"],
            "business_date": due["_resolved"].dt.date,
            "on_time": (due["made_sla"] == "true").astype(int),
        }
    )
    result = (
        frame.groupby(["agent_id", "business_date"])
        .agg(tickets_due_count=("on_time", "size"), tickets_on_time_count=("on_time", "sum"))
        .reset_index()
    )
    result = result[result["tickets_due_count"] > 0]
    result = result.astype({"tickets_due_count": int, "tickets_on_time_count": int})
    return result.sort_values(["agent_id", "business_date"], ignore_index=True)[COLUMNS]
