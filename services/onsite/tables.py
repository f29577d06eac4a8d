"""Tables of the onsite database (besides the shared outbox tables)."""

TABLES = frozenset({"site_visit", "three_calls_record", "visit_quality_issue"})
