"""Tables of the onsite database (besides the shared outbox tables)."""

TABLES = frozenset({
    "site_visit", "three_calls_record", "visit_quality_issue",
    # work on site (S9-S17)
    "technical_briefing", "briefing_dispute", "work_permit", "site_task", "safety_checklist",
    "process_data_record", "process_data_reading", "milestone", "witness_record",
    # evidence (S19)
    "evidence_file",
    # presence and daily logs (S10, S20)
    "daily_presence", "daily_log", "missed_sign_in",
    # records on site (S15, S16, S18, S21-S24, S31, S32)
    "communication_entry", "customer_report", "process_record", "leave_request", "raised_item",
    "training_material", "training_session", "site_customer_information",
    # closing (S26-S33)
    "engineer_check", "closing_record", "handover", "repair_take_back", "drawing_revision", "service_report",
    "departure",
})
