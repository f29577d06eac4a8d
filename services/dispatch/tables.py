"""Tables of the dispatch database (besides the shared outbox tables)."""

TABLES = frozenset({
    "service_case", "case_event", "condition_call", "engineer", "staffing_policy", "engineer_assignment",
    "staffing_request", "service_plan", "specification_template", "specification_pack", "preparation_checklist",
    "routed_item",
})
