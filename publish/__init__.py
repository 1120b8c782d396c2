"""Publishing: the only code that writes the `reporting` schema analysts and BI tools read.

- `gate`: a run's audited build goes to `reporting` in one transaction (the daily DAG's
  last step).
- `tables`: how one reporting table is replaced so that what users built on it (views,
  saved queries, grants) keeps working: descriptions, indexes, shape changes.
- `closed_months`: what closed months publish (their snapshots, adjustments, close tables).
"""
