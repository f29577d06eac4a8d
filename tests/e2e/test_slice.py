"""The foundation slice through four real service processes, over HTTP and Kafka."""

from __future__ import annotations

import pytest

from devstack.demo import run_slice

pytestmark = pytest.mark.e2e


def test_a_case_flows_through_all_four_services(stack, client):
    result = run_slice(client, timeout=60, say=lambda _line: None)
    types = [e["event_type"] for e in result["timeline"]]
    # Per-case order holds across services: each step follows its cause.
    for earlier, later in [("ServiceRequestReceived", "ServiceDispatched"), ("ServiceDispatched", "EngineerArrived"),
                           ("EngineerArrived", "ServiceCompleted"), ("ServiceCompleted", "FollowUpCallScheduled")]:
        assert types.index(earlier) < types.index(later)
    ids = [e["event_id"] for e in result["timeline"]]
    assert len(ids) == len(set(ids)), "each event is applied once"
    correlation = {e["data"].get("case_id") for e in result["timeline"]}
    assert correlation == {result["case_id"]}
    # decision 0090: the make-run SMTP sink holds the mails the case's events sent (the customer's may wait
    # for the contact window: 08:00-20:00 site time)
    sent = [n for n in result["notifications"] if n["status"] == "sent"]
    for audience, language in (("dispatcher", "en"), ("regional_centre", "en")):
        mine = [n for n in sent if n["audience"] == audience]
        assert mine and {n["language"] for n in mine} == {language}
        for n in mine:
            assert any(m.subject == n["subject"] for m in stack.mail_sink.to(n["address"]))
    customer = [n for n in result["notifications"] if n["audience"] == "customer"]
    assert customer and {n["language"] for n in customer} == {"zh"}
    for n in customer:
        if n["status"] == "sent":
            assert any(m.subject == n["subject"] for m in stack.mail_sink.to(n["address"]))
        else:
            assert n["status"] == "queued"
    assert list((stack.data_dir / "mail").glob("*.eml"))


def test_the_cli_loads_demo_cases_into_a_running_stack(stack):
    from typer.testing import CliRunner

    from devstack.cli import app

    ports = {f"{name.upper()}_PORT": str(port) for name, port in stack.service_ports.items()}
    result = CliRunner().invoke(app, ["load-demo", "--cases", "2", "--timeout", "60"], env=ports)
    assert result.exit_code == 0, result.output
    assert "2 cases driven through the stack" in result.output


def test_metrics_show_the_operational_series_on_a_running_stack(stack, client):
    from devstack.demo import run_slice

    run_slice(client, timeout=60, say=lambda _line: None)
    wanted = ["http_requests_total", "http_request_duration_seconds_bucket", "outbox_backlog",
              "outbox_oldest_unsent_age_seconds", "outbox_relay_active", "dead_letters_total"]
    for name, http in client.http.items():
        text = http.get("/metrics").text
        for series in wanted:
            assert f'{series}{{' in text or f"{series} " in text, f"{name} lacks {series}"
        assert f'outbox_relay_active{{service="{name}"}} 1.0' in text
    # Consumers that handled events report their handler durations and lag.
    onsite = client.http["onsite"].get("/metrics").text
    assert 'event_handler_duration_seconds_count{event_type="ServiceDispatched",service="onsite"}' in onsite
    assert "consumer_lag{" in onsite
    # Domain gauges.
    assert 'cases_by_status{service="dispatch",status="completed"}' in client.http["dispatch"].get("/metrics").text
    assert 'issues_past_sla{service="quality"}' in client.http["quality"].get("/metrics").text
    assert 'follow_up_calls_due{service="feedback"}' in client.http["feedback"].get("/metrics").text
    assert 'visits_on_site{service="onsite"}' in client.http["onsite"].get("/metrics").text
