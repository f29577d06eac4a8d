"""The KPI dashboard (decision 0085) sits beside the operational one: provisioned from the same folder, on the
same Prometheus datasource, querying only the series dispatch exposes, every KPI of docs/kpis.md shown."""

from __future__ import annotations

import json
import re

import yaml

from services.dispatch.insight import domain, service
from tests.unit.deploy.files import GRAFANA

DASHBOARD = GRAFANA / "dashboards" / "kpis.json"
EXPOSED = {"kpi_value", "kpi_denominator", "insight_read_model_lag_seconds_bucket", "insight_refresh_failures_total"}


def _exprs(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_the_kpi_dashboard_is_provisioned_beside_the_operational_one_on_the_same_datasource():
    dashboard = json.loads(DASHBOARD.read_text())
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "fieldservice.yml").read_text())
    (entry,) = provider["providers"]
    assert entry["options"]["path"] == "/etc/grafana/dashboards"  # every JSON of deploy/grafana/dashboards
    ops = json.loads((GRAFANA / "dashboards" / "fieldservice.json").read_text())
    assert dashboard["uid"] != ops["uid"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["gridPos"]["w"] and panel["gridPos"]["h"]
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "prometheus"


def test_the_kpi_dashboard_queries_series_dispatch_exposes_and_shows_every_kpi():
    exprs = _exprs(json.loads(DASHBOARD.read_text()))
    names = {n for e in exprs for n in re.findall(r"([a-z_][a-z0-9_]*)\s*[{\[]", e)}
    assert names <= EXPOSED, names - EXPOSED
    assert {service.KPI_VALUE._name, service.KPI_DENOMINATOR._name} <= names
    assert service.READ_MODEL_LAG._name + "_bucket" in names
    shown = set(re.findall(r'kpi="([a-z_]+)"', " ".join(exprs)))
    counts = any("kpi_denominator" in e and "by (kpi)" in e for e in exprs)  # every KPI's count
    assert counts and shown <= {k.name for k in domain.KPIS}
    assert len(shown) >= 14


def test_both_dashboards_reach_a_cluster_grafana_as_a_generated_configmap():
    """In Kubernetes the dashboards travel as one ConfigMap the Grafana sidecar loads, generated from the files."""
    from devstack.grafana_configmap import CONFIGMAP, render

    assert CONFIGMAP.read_text() == render(), "regenerate: python -m devstack.grafana_configmap"
    configmap = yaml.safe_load(CONFIGMAP.read_text())
    assert configmap["metadata"]["labels"] == {"grafana_dashboard": "1"}
    assert set(configmap["data"]) == {"fieldservice.json", "kpis.json"}
    assert json.loads(configmap["data"]["kpis.json"]) == json.loads(DASHBOARD.read_text())
