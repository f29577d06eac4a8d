"""Tables of the dispatch database (besides the shared outbox tables)."""

TABLES = frozenset({"service_case", "case_event"})
