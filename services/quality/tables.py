"""Tables of the quality database (besides the shared outbox tables)."""

TABLES = frozenset({"case_team", "quality_issue"})
