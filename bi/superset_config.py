"""Superset's configuration for the project (read by Superset through SUPERSET_CONFIG_PATH).

Everything comes from the environment `bi.superset` sets: Superset's own metadata lives in
SQLite under SUPERSET_HOME (a team points SUPERSET_METADATA_URL at PostgreSQL), the secret
key comes from a file that is never in the repository."""

import os
from pathlib import Path

_home = Path(os.environ["SUPERSET_HOME"])

SECRET_KEY = Path(os.environ["SUPERSET_SECRET_KEY_FILE"]).read_text().strip()
SQLALCHEMY_DATABASE_URI = os.environ.get(
    "SUPERSET_METADATA_URL", f"sqlite:///{_home / 'superset.db'}"
)
# Charts are read at once from `reporting`; no worker, no Redis.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
WTF_CSRF_ENABLED = True
# The dashboards filter by month, team and agent.
FEATURE_FLAGS = {"DASHBOARD_NATIVE_FILTERS": True}
