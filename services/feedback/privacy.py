"""The personal data feedback holds (decision 0093): read by the export, the erasure, the retention purge and
docs/personal-data.md."""

from __future__ import annotations

from shared.privacy import (
    BOTH,
    CONTACT,
    ENGINEER,
    PERSON_KEYS,
    PersonalField,
    PrivacyDeclaration,
    case_through,
    outbox_fields,
)

CALL_CASE = case_through("follow_up_call", "call_id")

PRIVACY = PrivacyDeclaration(
    service="feedback",
    fields=(
        PersonalField("follow_up_call", "engineer_ids", "identity", "S34 the team the call is about", "json",
                      ENGINEER, case="case_id"),
        PersonalField("follow_up_call", "outcome_note", "free_text", "S34 the call's outcome", "text", CONTACT,
                      case="case_id", at="created_at"),
        PersonalField("follow_up_call_attempt", "note", "free_text", "S34 a call attempt's note", "text", CONTACT,
                      case=CALL_CASE, at="attempted_at"),
        PersonalField("survey_response", "answers", "free_text", "S30/S34 the customer's survey answers", "json",
                      CONTACT, case="case_id", at="answered_at", json_keys=("value",)),
        PersonalField("complaint", "text", "free_text", "S34 the customer's complaint", "text", CONTACT,
                      case="case_id", at="raised_at"),
        PersonalField("feedback_record", "details", "free_text", "S30/S31 ratings and evaluations", "json", BOTH,
                      case="case_id", at="recorded_at", json_keys=PERSON_KEYS),
        PersonalField("feedback_record", "engineer_ids", "identity", "S30/S31 whom the rating is about", "json",
                      ENGINEER, case="case_id"),
        PersonalField("customer_information", "text", "free_text", "S32 what the customer said", "text", CONTACT,
                      case="case_id", at="routed_at"),
        PersonalField("customer_information", "notification_text", "free_text", "S32 the answer sent to the "
                      "customer", "text", CONTACT, case="case_id", at="routed_at"),
        *outbox_fields(),
    ),
    notes=(
        "Feedback holds no contact addresses: the one-request export and erasure (dispatch) passes the names and "
        "cases it knows, and names are matched within those cases. `customer_name` columns name the customer "
        "company, not a person.",
    ),
)
