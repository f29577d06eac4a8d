"""Tables of the quality database (besides the shared outbox tables)."""

TABLES = frozenset({
    "case_team", "quality_issue", "issue_journal_entry", "issue_evidence", "failure_mode", "sla_target",
    "repair_order", "repair_status_entry",
})
