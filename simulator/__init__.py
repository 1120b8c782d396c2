"""A seeded, deterministic contact center that emits the four sources in their native forms.

`build_world` makes the events; `exports` writes them as the vendors deliver them (CSV
files, a paginated REST API, a SQLite QA database, JSON-lines surveys); `ground_truth`
computes every KPI from the events themselves, independently of the warehouse.
"""
