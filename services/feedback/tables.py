"""Tables of the feedback database (besides the shared outbox tables)."""

TABLES = frozenset({"follow_up_call"})
