"""Where the sources are, from the environment (set by Airflow, the CLI or the tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAPPINGS = Path(__file__).resolve().parents[1] / "mappings" / "simulator"


ALL_SOURCES = ("call_center", "crm", "qa", "survey", "supervisor")


def enabled_sources() -> tuple[str, ...]:
    """ENABLED_SOURCES, e.g. "call_center" for a center that only has an ACD export."""
    names = tuple(
        s.strip()
        for s in os.environ.get("ENABLED_SOURCES", ",".join(ALL_SOURCES)).split(",")
        if s.strip()
    )
    unknown = sorted(set(names) - set(ALL_SOURCES))
    if unknown or not names:
        raise ValueError(
            f"ENABLED_SOURCES={os.environ.get('ENABLED_SOURCES')!r}: use some of {ALL_SOURCES}"
        )
    return names


@dataclass(frozen=True)
class SourceSettings:
    landing_dir: Path  # SOURCE_LANDING_DIR: call_center/ and surveys/ export folders
    crm_api_url: str  # CRM_API_URL: base URL of the CRM REST API
    qa_db_path: Path  # QA_DB_PATH: the QA tool's SQLite database
    timezone: str  # CENTER_TIMEZONE: the center's local time zone
    mappings_dir: Path  # SOURCE_MAPPINGS_DIR: the vendor mappings (<source>.yml) in use
    enabled_sources: tuple[str, ...]  # ENABLED_SOURCES: the systems this center has

    def places(self, source_system: str):
        """Where the source's systems are: the landing folder for files; for an API its
        base URL (`<SOURCE>_API_URL`; the CRM's is CRM_API_URL); for a SQL delivery its
        database (`<SOURCE>_DB_URL`, any SQLAlchemy URL, or `<SOURCE>_DB_PATH`, a SQLite
        file; the QA tool's is QA_DB_PATH)."""
        from extractors.deliveries import Places

        prefix = source_system.upper()
        api = self.crm_api_url if source_system == "crm" else os.environ.get(f"{prefix}_API_URL")
        database = os.environ.get(f"{prefix}_DB_URL") or (
            str(self.qa_db_path) if source_system == "qa" else os.environ.get(f"{prefix}_DB_PATH")
        )
        return Places(self.landing_dir, api, database)

    @classmethod
    def from_env(cls) -> SourceSettings:
        landing = Path(os.environ.get("SOURCE_LANDING_DIR", ".local/sample"))
        return cls(
            landing_dir=landing,
            crm_api_url=os.environ.get("CRM_API_URL", "http://127.0.0.1:8765"),
            qa_db_path=Path(os.environ.get("QA_DB_PATH", str(landing / "qa" / "qa_tool.sqlite"))),
            timezone=os.environ.get("CENTER_TIMEZONE", "Asia/Shanghai"),
            mappings_dir=Path(os.environ.get("SOURCE_MAPPINGS_DIR", str(DEFAULT_MAPPINGS))),
            enabled_sources=enabled_sources(),
        )
