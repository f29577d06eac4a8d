"""deploy/k8s: every manifest parses and is listed; Deployments are probed, bounded, non-root."""

from __future__ import annotations

import pytest
import yaml

from devstack.config_reference import settings_classes
from tests.unit.deploy.files import (
    APP_SERVICES,
    K8S,
    accepted,
    fill_placeholders,
    image_is_pinned,
    k8s_documents,
    k8s_resource,
    k8s_resources,
)


def _kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def test_every_manifest_parses_and_names_its_kind():
    assert k8s_documents()
    for path, docs in k8s_documents().items():
        assert docs, path
        for doc in docs:
            assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], path


def test_the_kustomization_lists_every_file_and_nothing_else():
    listed = set(_kustomization()["resources"])
    present = {str(p.relative_to(K8S)) for p in k8s_documents()}
    assert listed == present


def test_everything_goes_to_the_fieldservice_namespace():
    assert _kustomization()["namespace"] == "fieldservice"
    assert k8s_resource("Namespace", "fieldservice")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_each_service_has_a_deployment_service_configmap_secret_and_hpa(service):
    deployment = k8s_resource("Deployment", service)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = k8s_resource("Service", service)
    assert svc["spec"]["selector"].items() <= labels.items()
    ports = {p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= ports
    assert k8s_resource("ConfigMap", f"{service}-config")
    assert k8s_resource("Secret", f"{service}-secrets")
    hpa = k8s_resource("HorizontalPodAutoscaler", service)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= 1
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_deployment_is_probed_bounded_and_non_root(service):
    pod = k8s_resource("Deployment", service)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    (app,) = pod["containers"]
    assert app["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert app["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert app["startupProbe"]["httpGet"]["path"] == "/healthz"
    for container in [*pod["containers"], *pod["initContainers"]]:
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"])
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["capabilities"]["drop"] == ["ALL"]
        assert image_is_pinned(container["image"]), container["image"]
        sources = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]}
        assert sources == {f"{service}-config", f"{service}-secrets"}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_an_init_container_migrates_the_service_database_first(service):
    pod = k8s_resource("Deployment", service)["spec"]["template"]["spec"]
    (migrate,) = pod["initContainers"]
    assert migrate["command"] == ["python", "-m", "devstack.cli", "migrate", service]
    assert migrate["image"] == pod["containers"][0]["image"]


def test_the_image_tags_are_pinned_in_the_kustomization():
    images = {i["name"]: i["newTag"] for i in _kustomization()["images"]}
    assert set(images) == {f"fieldservice/{s}" for s in APP_SERVICES}
    assert all(image_is_pinned(f"{name}:{tag}") for name, tag in images.items())


@pytest.mark.parametrize("service", APP_SERVICES)
def test_configmaps_and_secrets_carry_only_settings_of_their_service(service):
    config = k8s_resource("ConfigMap", f"{service}-config")["data"]
    secret = k8s_resource("Secret", f"{service}-secrets")["stringData"]
    assert not set(config) & set(secret), "a setting in both"
    unknown = (set(config) | set(secret)) - accepted(service)
    assert not unknown, sorted(unknown)
    assert {"POSTGRES_URL", "JWT_JWKS_URL"} <= set(secret)
    assert "POSTGRES_URL" not in config, "credentials belong in the Secret"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_secret_templates_are_placeholders_refused_as_they_are_and_valid_once_filled(service, monkeypatch):
    secret = k8s_resource("Secret", f"{service}-secrets")["stringData"]
    assert "REPLACE_ME" in secret["POSTGRES_URL"] and "REPLACE_ME" in secret["JWT_JWKS_URL"]
    for key, value in {**k8s_resource("ConfigMap", f"{service}-config")["data"], **secret}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match="production mode refuses"):
        settings_classes()[service]()
    for key, value in secret.items():
        monkeypatch.setenv(key, fill_placeholders(value))
    settings = settings_classes()[service]()
    assert settings.environment == "production"
    assert settings.database_url.endswith(f"/{service}")
    assert settings.kafka_enable_idempotence


def test_only_dispatch_gets_the_crm_webhook_secrets():
    holders = [s["metadata"]["name"] for s in k8s_resources("Secret") if "CRM_WEBHOOK_SECRETS" in s["stringData"]]
    assert holders == ["dispatch-secrets"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_hpa_owns_the_replica_count_and_keeps_a_standby(service):
    """A `replicas` field would reset the HPA's count on every apply; two replicas keep a standby relay."""
    assert "replicas" not in k8s_resource("Deployment", service)["spec"]
    assert k8s_resource("HorizontalPodAutoscaler", service)["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_relay_and_consumer_run_in_their_own_pods(service):
    """Decision 0098: the API pods neither publish nor consume; `<service>-relay` (same image and configuration,
    two replicas: one publishes, one stands by) does both, and no Service routes requests to it."""
    def flags(deployment: dict) -> dict[str, str]:
        (app,) = deployment["spec"]["template"]["spec"]["containers"]
        return {e["name"]: e["value"] for e in app.get("env", [])}

    api, relay = k8s_resource("Deployment", service), k8s_resource("Deployment", f"{service}-relay")
    assert flags(api) == {"RELAY_ENABLED": "false", "CONSUMER_ENABLED": "false"}
    assert flags(relay) == {"RELAY_ENABLED": "true", "CONSUMER_ENABLED": "true"}
    assert relay["spec"]["replicas"] == 2
    (api_app,), (relay_app,) = (d["spec"]["template"]["spec"]["containers"] for d in (api, relay))
    assert relay_app["image"] == api_app["image"] and relay_app["envFrom"] == api_app["envFrom"]
    relay_labels = relay["spec"]["template"]["metadata"]["labels"]
    assert not k8s_resource("Service", service)["spec"]["selector"].items() <= relay_labels.items()
