"""The team install's docker-compose.yml, checked without a Docker engine: it parses, every
image is pinned, every variable it reads is documented, and its Airflow services run the
project's image with Airflow's own entry points."""

import re

import yaml

from tests.conftest import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
TEXT = (REPO_ROOT / "docker-compose.yml").read_text()
README = (REPO_ROOT / "README.md").read_text()


def test_every_image_is_pinned():
    images = [s["image"] for s in COMPOSE["services"].values() if "image" in s]
    assert images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", image


def test_every_variable_it_reads_is_documented_in_the_readme():
    variables = set(re.findall(r"\$\{([A-Z_]+)", TEXT))
    assert {"WAREHOUSE_PASSWORD", "PII_HASH_KEY", "BI_READER_PASSWORD"} <= variables
    for name in variables:
        assert f"`{name}`" in README, f"{name} is not documented in the README"


def test_airflow_services_run_the_project_image_with_airflow_entry_points():
    services = COMPOSE["services"]
    commands = {
        name: service.get("command")
        for name, service in services.items()
        if name.startswith("airflow-") and name != "airflow-db"
    }
    assert sorted(c[0] for c in commands.values() if c) == [
        "api-server",
        "dag-processor",
        "db",
        "scheduler",
    ]
    for name in commands:
        assert services[name]["image"] == "contact-center-scorecards-airflow:0.1.0"
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert (REPO_ROOT / "Dockerfile").is_file()
    assert services["warehouse"]["image"].startswith("postgres:")


def test_superset_runs_the_dashboards_of_bi_as_the_bi_role():
    superset = COMPOSE["services"]["superset"]
    assert superset["build"] == {"context": ".", "dockerfile": "bi/Dockerfile"}
    dockerfile = (REPO_ROOT / "bi" / "Dockerfile").read_text()
    # the same pins as .venv-bi and the same entry point as `make bi`, waiting for a publish
    assert "pip install --no-cache-dir -r /tmp/bi-requirements.txt" in dockerfile
    assert "COPY bi/requirements.txt /tmp/bi-requirements.txt" in dockerfile
    command = re.search(r"^CMD (.+)$", dockerfile, re.M).group(1)
    assert yaml.safe_load(command)[:3] == ["python", "-m", "bi"]
    assert "--wait-for-publication" in command
    # the address of the warehouse, never a login: the BI role's password comes apart
    url = superset["environment"]["WAREHOUSE_URL"]
    assert url == "postgresql://warehouse:5432/warehouse"
    assert superset["environment"]["BI_READER_PASSWORD"].startswith("${BI_READER_PASSWORD")
    assert superset["ports"] == ["${SUPERSET_BIND:-127.0.0.1}:8088:8088"]
    assert (REPO_ROOT / "bi" / "__main__.py").is_file()
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (REPO_ROOT / source).exists(), source


def test_the_warehouse_port_is_published_on_the_loopback_interface_by_default():
    (published,) = COMPOSE["services"]["warehouse"]["ports"]
    bind, host_port, container_port = published.rsplit(":", 2)
    assert bind == "${WAREHOUSE_BIND:-127.0.0.1}"
    assert (host_port, container_port) == ("5432", "5432")
