"""Embedded PostgreSQL (the `pgserver` package) so a fresh machine needs no system server."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT / ".local" / "pgdata"


def start(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """Start (or attach to) the embedded server and return its connection URL.

    The server is left running when this process exits so that Airflow tasks, dbt and the
    tests can share it; pgserver attaches to a server already running on the same folder.
    """
    import pgserver  # heavy import, only when the embedded default is used

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode=None)
    return server.get_uri()
