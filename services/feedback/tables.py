"""Tables of the feedback database (besides the shared outbox tables)."""

TABLES = frozenset({
    "follow_up_call", "follow_up_call_attempt", "questionnaire", "survey_response", "survey_link",
    "feedback_record", "complaint", "customer_information",
})
