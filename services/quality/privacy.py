"""The personal data quality holds (decision 0093): read by the export, the erasure, the retention purge and
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

ISSUE_CASE = case_through("quality_issue", "issue_id")

PRIVACY = PrivacyDeclaration(
    service="quality",
    fields=(
        PersonalField("quality_issue", "description", "free_text", "S25 the issue as reported (from site or a "
                      "complaint)", "text", CONTACT, case="case_id", at="created_at"),
        PersonalField("quality_issue", "logged_by", "identity", "S25 who logged the issue", "subject", ENGINEER),
        PersonalField("quality_issue", "on_site_resolution", "identity", "S25 the fix on site", "json", ENGINEER,
                      case="case_id"),
        PersonalField("issue_journal_entry", "data", "identity", "S25 the closed loop's journal", "json", BOTH,
                      case=ISSUE_CASE, at="at", json_keys=PERSON_KEYS),
        PersonalField("issue_journal_entry", "by", "identity", "S25 who changed the issue", "subject", ENGINEER),
        PersonalField("issue_evidence", "uploaded_by", "identity", "S25 who uploaded the evidence", "subject",
                      ENGINEER),
        PersonalField("case_team", "engineer_ids", "identity", "S25 the case's team (who may log issues)", "json",
                      ENGINEER, key="case_id", case="case_id"),
        PersonalField("repair_status_entry", "customer_notification", "free_text", "S28 what the customer was "
                      "told about a repair", "text", CONTACT, at="at",
                      case=case_through("repair_order", "repair_order_id")),
        *outbox_fields(),
    ),
    notes=(
        "Quality holds no contact addresses: the one-request export and erasure (dispatch) passes the names and "
        "cases it knows, and names are matched within those cases.",
    ),
)
