"""Data-quality suites (Great Expectations, as code) and the audit of each run."""
