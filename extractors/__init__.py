"""One sub-package per source system: client -> parse -> land (raw schema)."""
