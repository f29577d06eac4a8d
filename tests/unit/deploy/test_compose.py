"""docker-compose.yml: the services it must run, pinned images, health checks, settings names."""

from __future__ import annotations

import pytest

from devstack.config_reference import settings_classes
from tests.unit.deploy.files import (
    APP_SERVICES,
    DEPLOY,
    ROOT,
    accepted,
    compose,
    compose_env_files,
    compose_environment,
    env_file_names,
    fill_placeholders,
    image_is_pinned,
    interpolate,
)


def test_the_stack_has_kafka_postgres_the_four_services_prometheus_and_grafana():
    services = compose()["services"]
    assert {"kafka", "postgres", "prometheus", "grafana", *APP_SERVICES} <= set(services)


def test_kafka_is_apache_kafka_in_kraft_mode_without_zookeeper():
    kafka = compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = compose_environment("kafka")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert "CONTROLLER://" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@kafka:")
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert not any("ZOOKEEPER" in k for k in env)
    assert len(env["CLUSTER_ID"]) == 22  # a base64 UUID, as `kafka-storage format` wants


def test_postgres_creates_one_database_and_role_per_service_on_first_start():
    postgres = compose()["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    init = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert init, "no init script mounted"
    script = ROOT / init[0].split(":")[0]
    text = script.read_text()
    assert script.stat().st_mode & 0o111, "the init script must be executable"
    assert "for service in dispatch onsite quality feedback" in text
    assert 'CREATE DATABASE :"service" OWNER :"service"' in text
    for service in APP_SERVICES:
        assert f"{service.upper()}_DB_PASSWORD" in compose_environment("postgres")
        # Each service connects as its own role, to its own database.
        url = compose_environment(service)["POSTGRES_URL"]
        assert url.startswith(f"postgresql+asyncpg://{service}:") and url.endswith("@postgres:5432")


def test_every_image_is_pinned_to_a_version():
    for name, service in compose()["services"].items():
        assert "image" in service, name
        image = interpolate(service["image"])
        assert image_is_pinned(image), f"{name}: {image}"


def test_every_application_service_has_a_healthcheck_a_restart_policy_and_waits_for_its_dependencies():
    services = compose()["services"]
    for name in [*APP_SERVICES, "kafka", "postgres", "prometheus", "grafana"]:
        service = services[name]
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check["test"], name
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), name
    for name in APP_SERVICES:
        service = services[name]
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        depends = service["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends[f"{name}-migrate"]["condition"] == "service_completed_successfully"


def test_each_service_is_migrated_by_a_one_shot_before_it_starts():
    services = compose()["services"]
    for name in APP_SERVICES:
        migrate = services[f"{name}-migrate"]
        assert migrate["command"] == ["python", "-m", "devstack.cli", "migrate", name]
        assert migrate["restart"] == "no"
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert migrate["image"] == services[name]["image"]
        # The migration reads the server URL; it must be the one the service uses.
        assert compose_environment(f"{name}-migrate")["POSTGRES_URL"] == compose_environment(name)["POSTGRES_URL"]


def test_each_service_image_is_built_from_the_dockerfile_for_that_service():
    services = compose()["services"]
    for name in APP_SERVICES:
        build = services[name]["build"]
        assert build["context"] == "."
        assert build["args"]["SERVICE"] == name
        assert interpolate(services[name]["image"]).startswith(f"fieldservice/{name}:")


def test_onsite_runs_two_replicas_without_fixed_host_ports_or_names():
    onsite = compose()["services"]["onsite"]
    assert onsite["deploy"]["replicas"] == 2
    assert "container_name" not in onsite
    for port in onsite.get("ports", []):
        host = str(port).rsplit(":", 1)[0]
        assert host.endswith(":") or ":" not in str(port), f"a fixed host port clashes between replicas: {port}"


def test_apache_kafka_gets_the_idempotent_producer():
    for name in APP_SERVICES:
        assert compose_environment(name)["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
        assert compose_environment(name)["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_environment_name_given_to_a_service_is_one_of_its_settings(service):
    for name in (service, f"{service}-migrate"):
        unknown = set(compose_environment(name)) - accepted(service)
        assert not unknown, f"{name}: not settings of {service}: {sorted(unknown)}"
        for template in compose_env_files(name):
            assert template.exists(), f"{name}: no template {template.relative_to(ROOT)}"
            unknown = set(env_file_names(template)) - accepted(service)
            assert not unknown, f"{template.name}: not settings of {service}: {sorted(unknown)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_compose_settings_are_valid_in_development_and_in_production_with_the_templates(service, monkeypatch):
    cls = settings_classes()[service]
    env = compose_environment(service)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = cls()
    assert settings.environment == "development"
    assert settings.database_url.endswith(f"@postgres:5432/{service}")
    assert settings.kafka_enable_idempotence and settings.kafka_topic_partitions >= 2
    # Production mode with compose's development passwords and the templates as committed: refused.
    for template in compose_env_files(service):
        for key, value in env_file_names(template).items():
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="production mode refuses"):
        cls()
    # With real passwords and the templates filled in: the settings accept it.
    monkeypatch.setenv("POSTGRES_URL", f"postgresql+asyncpg://{service}:Xk82-generated-by-the-vault@postgres:5432")
    for template in compose_env_files(service):
        for key, value in env_file_names(template).items():
            monkeypatch.setenv(key, fill_placeholders(value))
    production = cls()
    assert production.jwt_jwks_url and not any(a.startswith("HS") for a in production.jwt_algorithms)


def test_production_without_a_jwks_url_is_refused(monkeypatch):
    """Why compose defaults to development: production needs the identity provider's keys."""
    for key, value in compose_environment("onsite").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="JWT_JWKS_URL"):
        settings_classes()["onsite"]()


def test_secret_env_files_are_git_ignored_and_only_templates_are_committed():
    ignore = (DEPLOY / ".gitignore").read_text().split()
    assert "*.env" in ignore
    assert (DEPLOY / "compose.env.example").exists() and (DEPLOY / "dispatch.env.example").exists()


def test_each_service_publishes_and_consumes_in_its_own_relay_process():
    """Decision 0098: the API replicas neither publish nor consume; `<service>-relay`, the same image and
    settings, does both, with no host port."""
    services = compose()["services"]
    for name in APP_SERVICES:
        api, relay = compose_environment(name), compose_environment(f"{name}-relay")
        assert (api["RELAY_ENABLED"], api["CONSUMER_ENABLED"]) == ("false", "false")
        assert (relay["RELAY_ENABLED"], relay["CONSUMER_ENABLED"]) == ("true", "true")
        assert {k: v for k, v in relay.items() if not k.endswith("_ENABLED")} == \
            {k: v for k, v in api.items() if not k.endswith("_ENABLED")}
        assert services[f"{name}-relay"]["image"] == services[name]["image"]
        assert services[f"{name}-relay"]["env_file"] == services[name]["env_file"]
        assert not services[f"{name}-relay"].get("ports")
