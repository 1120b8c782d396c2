"""Data-quality suites (Great Expectations, as code) and the audit/publish gate."""
