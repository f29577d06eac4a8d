"""Prometheus scrapes every service and loads the alerts; the Grafana dashboard shows the metrics."""

from __future__ import annotations

import json
import re

import yaml
from prometheus_client.metrics import MetricWrapperBase

import shared.observability
from tests.unit.deploy.files import (
    APP_SERVICES,
    CORE_METRICS,
    DOMAIN_METRICS,
    GRAFANA,
    PROMETHEUS,
    ROOT,
    compose,
)

LABELS = {"service", "route", "status", "method", "le", "topic", "partition", "event_type", "instance", "job"}


def _prometheus() -> dict:
    return yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())


def _alerts() -> list[dict]:
    return [r for g in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"] for r in g["rules"]]


def _dashboard() -> dict:
    return json.loads((GRAFANA / "dashboards" / "fieldservice.json").read_text())


def _dashboard_exprs() -> list[str]:
    return [t["expr"] for p in _dashboard()["panels"] for t in p.get("targets", [])]


def _exposed_series() -> set[str]:
    """Sample names the services expose (shared/observability.py), as Prometheus sees them."""
    names = {"up"}
    for value in vars(shared.observability).values():
        if isinstance(value, MetricWrapperBase):
            base, kind = value._name, value._type
            if kind == "counter":
                names.add(f"{base}_total")
            elif kind == "histogram":  # the base name too: the dashboard and the guide speak of it
                names |= {base, f"{base}_bucket", f"{base}_sum", f"{base}_count"}
            else:
                names.add(base)
    return names


def _metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers before a selector, range or closing paren."""
    found = set(re.findall(r"([a-z_][a-z0-9_]*)\s*[{\[]", expr))
    found |= set(re.findall(r"\(\s*([a-z_][a-z0-9_]*)\s*\)", expr))
    return {n for n in found if n not in LABELS and n not in {"by", "without", "on", "ignoring"}}


def test_prometheus_scrapes_every_replica_of_all_four_services_on_their_compose_names():
    jobs = {j["job_name"]: j for j in _prometheus()["scrape_configs"]}
    for service in APP_SERVICES:
        job = jobs[service]
        assert job["metrics_path"] == "/metrics"
        (sd,) = job["dns_sd_configs"]
        # the API replicas and the relay process (outbox relay and consumer, decision 0098)
        assert sd["names"] == [service, f"{service}-relay"] and sd["type"] == "A" and sd["port"] == 8000
        assert {service, f"{service}-relay"} <= set(compose()["services"])


def test_prometheus_loads_the_alert_rules_from_where_compose_mounts_them():
    mounts = compose()["services"]["prometheus"]["volumes"]
    targets = {m.split(":")[1]: m.split(":")[0] for m in mounts if m.startswith("./")}
    for rule_file in _prometheus()["rule_files"]:
        assert (ROOT / targets[rule_file]).exists()
    assert targets["/etc/prometheus/alerts.yml"] == "./deploy/prometheus/alerts.yml"


def test_every_alert_is_complete_and_explained_in_the_operations_guide():
    guide = (ROOT / "docs" / "operations.md").read_text()
    alerts = _alerts()
    assert len({a["alert"] for a in alerts}) == len(alerts)
    for alert in alerts:
        assert alert["expr"] and alert["labels"]["severity"] in ("info", "warning", "critical")
        assert alert["annotations"]["summary"]
        assert f"**{alert['alert']}**" in guide, f"{alert['alert']} is not explained in docs/operations.md"


def test_the_alerts_cover_outbox_lag_dead_letters_readiness_and_server_errors():
    exprs = " ".join(a["expr"] for a in _alerts())
    for needle in ("outbox_backlog", "outbox_oldest_unsent_age_seconds", "outbox_relay_active", "consumer_lag",
                   "dead_letters_total", 'route="/readyz", status="503"', 'status=~"5.."', 'status="503"'):
        assert needle in exprs, needle


def test_alerts_and_dashboard_query_only_series_the_services_expose():
    exposed = _exposed_series()
    assert set(CORE_METRICS) <= exposed
    for expr in [a["expr"] for a in _alerts()] + _dashboard_exprs():
        unknown = _metric_names(expr) - exposed - set(DOMAIN_METRICS)
        assert not unknown, f"{expr}: {sorted(unknown)}"


def test_the_dashboard_shows_every_listed_metric_and_the_domain_placeholders():
    exprs = " ".join(_dashboard_exprs())
    for metric in CORE_METRICS + DOMAIN_METRICS:
        assert metric in exprs, metric
    assert "histogram_quantile(0.95" in exprs and "by (service, route" in exprs


def test_the_dashboard_is_well_formed_and_uses_the_provisioned_datasource():
    dashboard = _dashboard()
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (source,) = datasource["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["gridPos"]["w"] and panel["gridPos"]["h"]
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == source["uid"]


def test_grafana_loads_the_dashboard_from_where_compose_mounts_it():
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "fieldservice.yml").read_text())
    (entry,) = provider["providers"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in compose()["services"]["grafana"]["volumes"]
              if m.startswith("./")}
    assert mounts[entry["options"]["path"]] == "./deploy/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
