"""Loaders shared by the deployment checks: the files under test, and what the code says."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from devstack.config_reference import accepted_env_names, settings_classes
from devstack.stack import ROOT, SERVICES

APP_SERVICES = [s.name for s in SERVICES]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
PROMETHEUS = DEPLOY / "prometheus"
GRAFANA = DEPLOY / "grafana"

# Metrics the dashboard and the operators rely on (shared/observability.py), and the domain
# gauges the dashboard keeps placeholders for until the services export them.
CORE_METRICS = [
    "http_requests_total", "http_request_duration_seconds", "outbox_backlog",
    "outbox_oldest_unsent_age_seconds", "outbox_relay_active", "consumer_lag",
    "event_handler_duration_seconds", "dead_letters_total",
]
DOMAIN_METRICS = ["cases_by_status", "visits_on_site", "issues_past_sla", "follow_up_calls_due"]

_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def interpolate(value: object) -> str:
    """A compose value with every `${VAR:-default}` replaced by its default (as with an empty env)."""
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", str(value))


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def compose_environment(service: str) -> dict[str, str]:
    """The `environment:` of a compose service (map or list form), interpolated."""
    env = compose()["services"][service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(v) for k, v in env.items()}


def env_file_names(path: Path) -> dict[str, str]:
    """The variables of a dotenv file (KEY=VALUE lines; comments and blanks skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def compose_env_files(service: str) -> list[Path]:
    """The committed templates (`*.example`) of the env files a compose service reads."""
    entries = compose()["services"][service].get("env_file") or []
    paths = [e["path"] if isinstance(e, dict) else e for e in entries]
    return [ROOT / f"{p}.example" for p in paths]


@cache
def accepted(service: str) -> frozenset[str]:
    """Environment variable names the service's settings class reads."""
    return frozenset(accepted_env_names(settings_classes()[service]))


def image_is_pinned(image: str) -> bool:
    """`name:tag` with a tag that has a version number (or a digest); never `latest`."""
    if "@sha256:" in image:
        return True
    _, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:  # no tag, or the colon was a registry port
        return False
    return tag != "latest" and any(c.isdigit() for c in tag)


@cache
def k8s_documents() -> dict[Path, list[dict[str, Any]]]:
    """Every manifest under deploy/k8s (the kustomization excluded), parsed."""
    return {
        p: [d for d in yaml.safe_load_all(p.read_text()) if d]
        for p in sorted(K8S.rglob("*.yaml")) if p.name != "kustomization.yaml"
    }


def k8s_resources(kind: str) -> list[dict[str, Any]]:
    return [d for docs in k8s_documents().values() for d in docs if d["kind"] == kind]


def k8s_resource(kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in k8s_resources(kind) if d["metadata"]["name"] == name]
    return found


def fill_placeholders(value: str) -> str:
    """A template value as an operator fills it in: every placeholder replaced by a generated secret."""
    for mark in ("REPLACE_ME_PASSWORD", "change-me-current-secret", "REPLACE_ME"):
        value = value.replace(mark, "Xk82-generated-by-the-vault")
    return value
