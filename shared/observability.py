"""Logging and metrics defaults: JSON log lines carrying the correlation id, Prometheus series."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

from shared import context

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_BACKLOG = Gauge("outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge("outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row", ["service"])
RELAY_ACTIVE = Gauge("outbox_relay_active", "1 when this replica's relay holds the publishing lock", ["service"])
CONSUMER_LAG = Gauge("consumer_lag", "Messages behind the partition end", ["service", "topic", "partition"])
HANDLER_DURATION = Histogram(
    "event_handler_duration_seconds", "Event handler duration", ["service", "event_type"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
EVENTS_PROCESSED = Counter("events_processed_total", "Events applied by handlers", ["service", "event_type"])
# Domain gauges, set by each service's collector when /metrics is scraped.
CASES_BY_STATUS = Gauge("cases_by_status", "Service cases by status", ["service", "status"])
VISITS_ON_SITE = Gauge("visits_on_site", "Site visits with engineers on site now", ["service"])
ISSUES_PAST_SLA = Gauge("issues_past_sla", "Open quality issues past a response or resolution deadline", ["service"])
FOLLOW_UP_CALLS_DUE = Gauge("follow_up_calls_due", "Follow-up calls due in the agents' queue now", ["service"])
DEAD_LETTERS = Gauge("dead_letters_total", "Messages sent to the dead-letter topic by this process", ["service"])
# Outbound webhooks (dispatch, decision 0083).
WEBHOOK_DELIVERIES = Counter("webhook_deliveries_total", "Outbound webhook attempts by outcome "
                             "(delivered, failed: retried later, dead_lettered)", ["service", "outcome"])
WEBHOOK_LATENCY = Histogram(
    "webhook_request_duration_seconds", "Duration of outbound webhook requests", ["service"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOK_BACKLOG = Gauge("webhook_backlog", "Outbound webhook deliveries pending per subscription",
                        ["service", "subscription"])
WEBHOOK_BACKLOG_AGE = Gauge("webhook_backlog_oldest_age_seconds", "Age of the oldest pending outbound webhook "
                            "delivery per subscription", ["service", "subscription"])
# Notifications to people (dispatch, decision 0090).
NOTIFICATIONS = Counter("notifications_total", "Notification send attempts by channel and outcome (sent, "
                        "retried: failed and queued again, failed: no more attempts)",
                        ["service", "channel", "outcome"])
NOTIFICATION_BACKLOG = Gauge("notification_backlog", "Notifications due and not sent yet, per channel",
                             ["service", "channel"])
NOTIFICATION_BACKLOG_AGE = Gauge("notification_backlog_oldest_age_seconds", "Age of the oldest notification due "
                                 "and not sent yet, per channel", ["service", "channel"])


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, service, logger, message, correlation id."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if cid := context.correlation_id.get():
            entry["correlation_id"] = cid
        if case := getattr(record, "case_id", None) or context.case_id.get():
            entry["case_id"] = case
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True
