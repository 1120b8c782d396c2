"""The Superset assets as files: every KPI metric comes from the dbt semantic layer, every
chart names metrics its dataset has, every dashboard places charts that exist."""

from pathlib import Path

import yaml

from bi import dashboards

SEMANTIC = yaml.safe_load(dashboards.SEMANTIC_LAYER.read_text(encoding="utf-8"))


def _load(folder: str) -> list[dict]:
    return [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((dashboards.ASSETS / folder).rglob("*.yaml"))
    ]


def test_every_semantic_metric_is_a_superset_metric_as_a_ratio_of_sums():
    metrics = {m["metric_name"]: m["expression"] for m in dashboards.kpi_metrics()}
    assert {m["name"] for m in SEMANTIC["metrics"]} <= set(metrics)
    # Written out by hand from _marts__semantic.yml:
    assert metrics["first_contact_resolution"] == (
        "SUM(fcr_resolved_count)::numeric / NULLIF(SUM(fcr_eligible_count), 0)"
    )
    assert metrics["nps"] == (
        "SUM(nps_promoter_count - nps_detractor_count) * 100.0 / nullif(SUM(nps_response_count), 0)"
    )
    assert metrics["praise_count"] == "SUM(praise_count)"


def test_the_bundle_carries_this_warehouse_as_the_bi_role_without_its_password(tmp_path: Path):
    url = "postgresql://postgres:s3cret@/postgres?host=/srv/pgdata"
    out = dashboards.bundle(tmp_path / "bundle", url)
    database = yaml.safe_load((out / dashboards.DATABASE).read_text(encoding="utf-8"))
    assert database["sqlalchemy_uri"] == (
        "postgresql+psycopg2://bi_reader:XXXXXXXXXX@/postgres?host=/srv/pgdata"
    )
    assert "s3cret" not in "".join(p.read_text() for p in out.rglob("*.yaml"))
    dataset = yaml.safe_load((out / dashboards.KPI_DATASET).read_text(encoding="utf-8"))
    assert [m["metric_name"] for m in dataset["metrics"]] == [
        m["metric_name"] for m in dashboards.kpi_metrics()
    ]


def test_every_chart_uses_metrics_of_its_dataset_and_every_dashboard_chart_exists(
    tmp_path: Path,
):
    out = dashboards.bundle(tmp_path / "bundle", "postgresql://u:p@h:5432/d")
    datasets = {
        d["uuid"]: {m["metric_name"] for m in d["metrics"]}
        for d in (yaml.safe_load(p.read_text()) for p in (out / "datasets").rglob("*.yaml"))
    }
    charts = _load("charts")
    for chart in charts:
        params = chart["params"]
        used = set(params.get("metrics", [])) | (
            {params["metric"]} if "metric" in params else set()
        )
        assert used <= datasets[chart["dataset_uuid"]], chart["slice_name"]
    placed = {
        item["meta"]["uuid"]
        for dashboard in _load("dashboards")
        for item in dashboard["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }
    assert placed == {chart["uuid"] for chart in charts}


def _dataset_columns() -> dict[str, set[str]]:
    """Each dataset's columns: a published table's from its dbt contract, a virtual one's
    from the select list of its SQL (the last name of each line before `from`)."""
    contracts = {
        model["name"]: {c["name"] for c in model.get("columns", [])}
        for path in dashboards.SEMANTIC_LAYER.parent.glob("_marts__*.yml")
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", [])
    }
    columns = {}
    for dataset in _load("datasets"):
        if dataset.get("sql"):
            select = dataset["sql"].split("\nfrom ")[0].splitlines()[1:]
            names = {line.strip().rstrip(",").split()[-1].split(".")[-1] for line in select}
            columns[dataset["uuid"]] = names
        else:
            columns[dataset["uuid"]] = contracts[dataset["table_name"]]
    return columns


def test_every_filter_targets_a_column_every_chart_in_its_scope_has():
    columns = _dataset_columns()
    charts = {chart["uuid"]: chart for chart in _load("charts")}
    filtered = 0
    for dashboard in _load("dashboards"):
        placed = {
            item["meta"]["chartId"]: charts[item["meta"]["uuid"]]
            for item in dashboard["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        }
        for native in dashboard["metadata"]["native_filter_configuration"]:
            (target,) = native["targets"]
            column = target["column"]["name"]
            assert column in columns[target["datasetUuid"]], native["name"]
            excluded = set(native["scope"]["excluded"])
            assert excluded <= set(placed), native["name"]
            for chart_id, chart in placed.items():
                if chart_id not in excluded:
                    assert column in columns[chart["dataset_uuid"]], (
                        native["name"],
                        chart["slice_name"],
                    )
                    filtered += 1
    assert filtered >= 12
