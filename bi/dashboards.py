"""Apache Superset on the `reporting` schema: the dashboards of bi/assets imported into a
local Superset (its own virtual environment, .venv-bi) and served.

The assets are Superset's export format, as files in the repository. Two things are written
at import time rather than kept in them: the warehouse URL of this machine (as the read-only
BI role, the password given separately) and the KPI metrics of the `kpi_inputs` dataset,
which come from the dbt semantic layer so that each KPI is defined once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import yaml

from warehouse.embedded import with_password
from warehouse.local_secrets import read_or_create

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = REPO_ROOT / "bi" / "assets"
BI_VENV = Path(os.environ.get("BI_VENV", REPO_ROOT / ".venv-bi"))
SEMANTIC_LAYER = REPO_ROOT / "dbt_project" / "models" / "marts" / "_marts__semantic.yml"
KPI_DATASET = "datasets/warehouse/kpi_inputs.yaml"
DATABASE = "databases/warehouse.yaml"
ADMIN_USER = "admin"
PASSWORD_MASK = "XXXXXXXXXX"  # Superset's placeholder for a password given at import


@dataclass(frozen=True)
class Superset:
    """A Superset home: its metadata database, secret key and admin password files."""

    home: Path

    @property
    def admin_password_file(self) -> Path:
        return self.home / "admin_password"

    def env(self) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        read_or_create(self.home / "secret_key")
        read_or_create(self.admin_password_file)
        return {
            **os.environ,
            "SUPERSET_HOME": str(self.home),
            "SUPERSET_CONFIG_PATH": str(REPO_ROOT / "bi" / "superset_config.py"),
            "SUPERSET_SECRET_KEY_FILE": str(self.home / "secret_key"),
            "SUPERSET_ADMIN_USER": ADMIN_USER,
            "SUPERSET_ADMIN_PASSWORD_FILE": str(self.admin_password_file),
            "FLASK_APP": "superset.app:create_app()",
        }


def kpi_metrics(semantic_layer: Path = SEMANTIC_LAYER) -> list[dict[str, str]]:
    """Superset metrics for every metric of the dbt semantic layer, as SQL over kpi_inputs:
    a ratio is sum(numerator) / sum(denominator), never an average of daily ratios."""
    spec = yaml.safe_load(semantic_layer.read_text(encoding="utf-8"))
    measures = {
        m["name"]: f"SUM({m.get('expr', m['name'])})"
        for model in spec["semantic_models"]
        for m in model["measures"]
        if m["agg"] == "sum"
    }
    defined = {m["name"]: m for model in spec["semantic_models"] for m in model["measures"]}
    sql: dict[str, str] = {
        name: measures[name] for name, m in defined.items() if m.get("create_metric")
    }
    labels = {name: defined[name].get("description") for name in sql}
    for metric in spec["metrics"]:
        params = metric["type_params"]
        if metric["type"] == "ratio":
            expression = (
                f"{measures[params['numerator']]}::numeric"
                f" / NULLIF({measures[params['denominator']]}, 0)"
            )
        elif metric["type"] == "derived":
            expression = re.sub(
                r"\b(\w+)\b", lambda w: sql.get(w.group(1), w.group(1)), params["expr"]
            )
        else:
            raise ValueError(f"metric {metric['name']}: no Superset form for {metric['type']}")
        sql[metric["name"]] = expression
        labels[metric["name"]] = metric.get("label") or metric.get("description")
    return [
        {"metric_name": name, "verbose_name": labels[name] or name, "expression": expression}
        for name, expression in sql.items()
    ]


def bi_url(warehouse_url: str) -> str:
    """The warehouse URL logging in as the read-only BI role, in SQLAlchemy 1.4's dialect
    name, with Superset's password placeholder instead of the password."""
    role = os.environ.get("BI_READER_ROLE", "bi_reader")
    masked = urlparse(with_password(warehouse_url, role, PASSWORD_MASK))
    return urlunparse(masked._replace(scheme="postgresql+psycopg2"))


def bundle(out: Path, warehouse_url: str) -> Path:
    """The assets of bi/assets with this warehouse's URL and the semantic layer's metrics."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(ASSETS, out)
    database = yaml.safe_load((out / DATABASE).read_text(encoding="utf-8"))
    database["sqlalchemy_uri"] = bi_url(warehouse_url)
    (out / DATABASE).write_text(yaml.safe_dump(database, allow_unicode=True), encoding="utf-8")
    dataset = yaml.safe_load((out / KPI_DATASET).read_text(encoding="utf-8"))
    dataset["metrics"] = kpi_metrics()
    (out / KPI_DATASET).write_text(yaml.safe_dump(dataset, allow_unicode=True), encoding="utf-8")
    return out


def _superset(instance: Superset, *args: str) -> None:
    subprocess.run(
        [str(BI_VENV / "bin" / "superset"), *args],
        check=True,
        env=instance.env(),
        stdout=subprocess.DEVNULL,
    )


def install(
    instance: Superset, warehouse_url: str, bi_password: str, *, wait: bool = False
) -> None:
    """Create or upgrade Superset's metadata, its roles and the admin, and import the assets
    (again: the files win over edits made in the UI). The datasets need the published
    tables: without them the import refuses, or with `wait` waits for the first publish."""
    if not (BI_VENV / "bin" / "superset").exists():
        raise SystemExit(f"Superset is not installed in {BI_VENV}: run `make bi`")
    _superset(instance, "db", "upgrade")
    _superset(instance, "init")
    assets = bundle(instance.home / "bundle", warehouse_url)
    subprocess.run(
        [
            str(BI_VENV / "bin" / "python"),
            str(REPO_ROOT / "bi" / "superset_load.py"),
            str(assets),
            *(["--wait"] if wait else []),
        ],
        check=True,
        env={**instance.env(), "SUPERSET_WAREHOUSE_PASSWORD": bi_password},
    )


def serve(
    instance: Superset, port: int, log: Path | None, host: str = "127.0.0.1"
) -> subprocess.Popen[bytes]:
    """Start Superset under gunicorn on `host`:`port` and return once it answers. Its log
    goes to `log`, or to this process's output when None (a container's)."""
    out = log.open("ab") if log else None
    server = subprocess.Popen(
        [
            str(BI_VENV / "bin" / "gunicorn"),
            "--bind",
            f"{host}:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "120",
            # its default control socket is one path per user: two servers would share it
            "--no-control-socket",
            "superset.app:create_app()",
        ],
        env=instance.env(),
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
    )
    if out:
        out.close()
    return wait_until_up(server, port, 180, log)


def wait_until_up(
    server: subprocess.Popen[bytes], port: int, seconds: float, log: Path | None
) -> subprocess.Popen[bytes]:
    """Return `server` once Superset answers on `port`; stop it if it does not in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"Superset stopped (exit {server.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(1)
    server.terminate()
    raise RuntimeError(f"Superset did not answer on port {port} within {seconds} s; see {log}")
