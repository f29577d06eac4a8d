"""The personal data dispatch holds (decision 0093): read by the export, the erasure, the retention purge and
docs/personal-data.md."""

from __future__ import annotations

from shared.privacy import (
    BOTH,
    CONTACT,
    CONTACT_KEYS,
    ENGINEER,
    LOCATION_KEYS,
    PERSON_KEYS,
    AliasSource,
    PersonalField,
    PrivacyDeclaration,
    outbox_fields,
)

PRIVACY = PrivacyDeclaration(
    service="dispatch",
    fields=(
        PersonalField("service_case", "contacts", "contact", "S1 the CRM's contacts; S8 the three calls", "json",
                      CONTACT, case="id", at="updated_at", json_keys=("name", "phone", "email")),
        PersonalField("service_case", "team", "identity", "S3 the team staffed", "json", ENGINEER, case="id",
                      at="updated_at", json_keys=("name",)),
        PersonalField("engineer", "name", "identity", "S3 the engineers' roster", "owner", ENGINEER, owner="id"),
        PersonalField("engineer", "certificates", "identity", "S3 certificates (licence numbers)", "owner",
                      ENGINEER, owner="id", erasure="emptied"),
        PersonalField("engineer", "unavailability", "identity", "S3 the engineer's calendar (leave)", "owner",
                      ENGINEER, owner="id", erasure="emptied"),
        PersonalField("engineer", "id", "identity", "S3 the engineer's identity subject", "subject", ENGINEER),
        PersonalField("engineer_assignment", "engineer_id", "identity", "S3 assignments", "subject", ENGINEER),
        PersonalField("case_event", "data", "identity", "the case timeline: every event's payload (conformance "
                      "evidence)", "json", BOTH, key="event_id", case="case_id", at="occurred_at",
                      json_keys=PERSON_KEYS),
        PersonalField("case_event", "data", "contact", "the case timeline: contacts in events", "json", (),
                      key="event_id", at="occurred_at", json_keys=CONTACT_KEYS),
        PersonalField("case_event", "data", "location", "the case timeline: S10 sign-in/out locations", "json", (),
                      key="event_id", erasure="cleared", at="occurred_at", json_keys=LOCATION_KEYS),
        PersonalField("case_event", "actor", "identity", "the case timeline: who did each step", "subject",
                      ENGINEER, key="event_id"),
        PersonalField("notification", "address", "contact", "S1-S34 messages to people (decision 0090)", "subject",
                      CONTACT, at="created_at"),
        PersonalField("notification", "recipient_name", "contact", "S1-S34 messages to people (decision 0090)",
                      "alias", CONTACT, case="case_id", at="created_at"),
        PersonalField("notification", "body", "free_text", "S1-S34 messages to people; S20's digest names engineers "
                      "and their work", "text", BOTH, case="case_id", at="created_at"),
        PersonalField("notification_opt_out", "address", "contact", "the customer's opt-out of messages",
                      "subject", CONTACT),
        PersonalField("routed_item", "raised_by", "identity", "S22-S24 referrals raised on site", "subject",
                      ENGINEER),
        PersonalField("webhook_event", "body", "free_text", "events delivered to subscribers (exact bodies)", "text",
                      BOTH, key="event_id", case="case_id", at="recorded_at"),
        *outbox_fields(),
    ),
    aliases=(
        AliasSource("service_case", "contacts", "customer_contact", case="id"),
        AliasSource("service_case", "team", "engineer", case="id"),
        AliasSource("engineer", "name", "engineer", subject_column="id"),
    ),
    notes=(
        "Not erased: `case_kpi_facts.engineers` and `case_conformance_summary.engineers` (derived read models, "
        "rebuilt from the timeline) and the staff directory `notification_recipient` (staff, not customers).",
        "Messages to people (`notification`) are deleted whole NOTIFY_RETENTION_DAYS (400) after they were queued, "
        "unless still queued; a queued message's `secrets` (S34's survey link) are cleared once it is sent, fails "
        "or is suppressed.",
    ),
)
