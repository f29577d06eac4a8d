"""The personal data onsite holds (decision 0093): read by the export, the erasure, the retention purge and
docs/personal-data.md."""

from __future__ import annotations

from typing import Any

from shared.privacy import (
    BOTH,
    CONTACT,
    ENGINEER,
    LOCATION_KEYS,
    PERSON_KEYS,
    AliasSource,
    Match,
    PersonalField,
    PersonalKind,
    PrivacyDeclaration,
    SubjectKind,
    case_through,
    outbox_fields,
)

VISIT_CASE = case_through("site_visit", "visit_id")


def _visit(table: str, column: str, kind: PersonalKind, purpose: str, match: Match,
           subjects: tuple[SubjectKind, ...], at: str | None, **more: Any) -> PersonalField:
    """A field of a table of one visit: names in it are matched within the subject's cases."""
    return PersonalField(table, column, kind, purpose, match, subjects, case=VISIT_CASE, at=at, **more)


PRIVACY = PrivacyDeclaration(
    service="onsite",
    fields=(
        PersonalField("site_visit", "contacts", "contact", "S8 the three calls' contacts", "json", CONTACT,
                      case="case_id", at="updated_at", json_keys=("name", "phone", "email")),
        PersonalField("site_visit", "team", "identity", "S6 the team on site", "json", ENGINEER, case="case_id",
                      at="updated_at", json_keys=("name",)),
        PersonalField("site_visit", "engineer_ids", "identity", "S6 who may work on the visit", "json", ENGINEER,
                      case="case_id"),
        PersonalField("site_visit", "project_manager_id", "identity", "S6 the project manager", "subject",
                      ENGINEER),
        PersonalField("site_visit", "receipt_signed_by", "signature", "S30 who signed the receipt", "alias",
                      CONTACT, case="case_id", at="updated_at"),
        _visit("three_calls_record", "calls", "free_text", "S8 the calls' outcomes", "json", CONTACT,
               "recorded_at", json_keys=("outcome",)),
        _visit("three_calls_record", "engineer_id", "identity", "S8 the engineer who arrived", "subject", ENGINEER,
               None),
        _visit("technical_briefing", "content", "identity", "S9 the customer's people briefed", "json", CONTACT,
               "created_at", json_keys=("customer_attendees", "equipment_and_interface_persons")),
        _visit("daily_presence", "engineer_id", "identity", "S10 who signed in", "subject", ENGINEER, None),
        _visit("daily_presence", "in_latitude", "location", "S10 where the engineer signed in", "owner", ENGINEER,
               "checked_in_at", owner="engineer_id", erasure="cleared"),
        _visit("daily_presence", "in_longitude", "location", "S10 where the engineer signed in", "owner",
               ENGINEER, "checked_in_at", owner="engineer_id", erasure="cleared"),
        _visit("daily_presence", "in_accuracy_m", "location", "S10 the sign-in fix's accuracy", "owner",
               ENGINEER, "checked_in_at", owner="engineer_id", erasure="cleared"),
        _visit("daily_presence", "out_latitude", "location", "S10 where the engineer signed out", "owner",
               ENGINEER, "checked_in_at", owner="engineer_id", erasure="cleared"),
        _visit("daily_presence", "out_longitude", "location", "S10 where the engineer signed out", "owner",
               ENGINEER, "checked_in_at", owner="engineer_id", erasure="cleared"),
        _visit("daily_presence", "out_accuracy_m", "location", "S10 the sign-out fix's accuracy", "owner",
               ENGINEER, "checked_in_at", owner="engineer_id", erasure="cleared"),
        _visit("missed_sign_in", "engineer_id", "identity", "S10 a day without sign-in", "subject", ENGINEER,
               None),
        _visit("daily_log", "engineer_id", "identity", "S20 the daily log's author", "subject", ENGINEER, None),
        _visit("milestone", "signed_off_by", "identity", "S13 who signed the milestone off", "subject", ENGINEER,
               None),
        _visit("witness_record", "name", "signature", "S17 the customer's witness", "alias", CONTACT, "signed_at"),
        _visit("witness_record", "typed_name", "signature", "S17 the witness's typed signature", "alias", CONTACT,
               "signed_at"),
        _visit("communication_entry", "counterpart", "contact", "S15 whom the engineer talked to", "alias",
               CONTACT, "logged_at"),
        _visit("communication_entry", "text", "free_text", "S15 requests and agreed solutions", "text", CONTACT,
               "logged_at"),
        _visit("leave_request", "engineer_id", "identity", "S21 who asked to leave", "subject", ENGINEER, None),
        _visit("leave_request", "site_manager", "contact", "S21 the site manager who decided", "alias", CONTACT,
               "decided_at"),
        _visit("engineer_check", "engineer_id", "identity", "S26 whose work was checked", "subject", ENGINEER,
               None),
        _visit("engineer_check", "checker_id", "identity", "S26 who checked", "subject", ENGINEER, None),
        _visit("closing_record", "cleanup_customer_confirmed_by", "signature", "S27 the customer confirmed the "
               "clean-up", "alias", CONTACT, None, key="visit_id"),
        _visit("handover", "received_by", "signature", "S28 who received the parts", "alias", CONTACT,
               "handed_over_at"),
        _visit("handover", "signature", "signature", "S28 the receiver's signature", "json", CONTACT,
               "handed_over_at", json_keys=("name", "typed_name")),
        _visit("service_report", "receipt_signed_by", "signature", "S30 who signed the receipt", "alias", CONTACT,
               "signed_off_at", key="visit_id"),
        _visit("service_report", "receipt_signature", "signature", "S30 the receipt's signature", "json", CONTACT,
               "signed_off_at", key="visit_id", json_keys=("name", "typed_name")),
        _visit("service_report", "customer_comment", "free_text", "S30 the customer's comment", "text", CONTACT,
               "signed_off_at", key="visit_id"),
        _visit("service_report", "report_snapshot", "signature", "S30 the signed report's content", "json",
               BOTH, "signed_off_at", key="visit_id", json_keys=PERSON_KEYS),
        _visit("process_record", "participants", "identity", "S18 who took part in the process", "json", BOTH,
               "recorded_at", json_keys=("*",)),
        _visit("training_session", "attendees", "identity", "S31 the customer's people trained", "json", CONTACT,
               "delivered_at", json_keys=("*",)),
        _visit("site_customer_information", "text", "free_text", "S32 what the customer said on site", "text",
               CONTACT, "captured_at"),
        _visit("departure", "engineer_id", "identity", "S33 who left", "subject", ENGINEER, None),
        _visit("departure", "site_manager_agreed_by", "contact", "S33 the site manager who agreed", "alias",
               CONTACT, "departed_at"),
        _visit("visit_change", "data", "identity", "the visit's changes feed (field sync)", "json", BOTH,
               "recorded_at", key="seq", json_keys=PERSON_KEYS),
        _visit("visit_change", "data", "location", "the changes feed: S10 locations", "json", (), "recorded_at",
               key="seq", erasure="cleared", json_keys=LOCATION_KEYS),
        _visit("visit_change", "actor", "identity", "the visit's changes feed: who changed it", "subject",
               ENGINEER, None, key="seq"),
        *outbox_fields(),
    ),
    aliases=(
        AliasSource("site_visit", "contacts", "customer_contact", case="case_id"),
        AliasSource("site_visit", "team", "engineer", case="case_id"),
    ),
    notes=(
        "Erasing a receipt's signer changes the report's snapshot: the re-rendered PDF then no longer has the "
        "signed SHA-256 (`GET .../service-report/verification` answers `matches: false`); the erasure record "
        "explains why.",
        "Actor columns of the standard's records (`recorded_by`, `logged_by`, ...) hold engineers' identity "
        "subjects and are kept: they are accountability for the step; the identity provider's erasure of the "
        "account makes them pseudonymous.",
    ),
)
