"""QA system: the QA tool's own SQL database, read incrementally by `updated_at`."""
