"""JSON log lines: timestamp, level, service, correlation id and case id."""

from __future__ import annotations

import json
import logging

from shared import context
from shared.observability import JsonFormatter


def test_a_log_line_carries_service_correlation_and_case():
    formatter = JsonFormatter("onsite")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "visit opened", None, None)
    with context.work_context(correlation="corr-9", causation="ev-1", case="case-42"):
        line = json.loads(formatter.format(record))
    assert line["service"] == "onsite" and line["level"] == "info" and line["msg"] == "visit opened"
    assert line["correlation_id"] == "corr-9" and line["case_id"] == "case-42" and line["ts"].endswith("+00:00")
    outside = json.loads(formatter.format(record))
    assert "case_id" not in outside and "correlation_id" not in outside
