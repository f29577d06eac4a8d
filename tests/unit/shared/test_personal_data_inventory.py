"""The personal data inventory cannot drift (decision 0093): every declared field is a column of the
service's models, every column that looks like personal data is declared (or named as not personal here),
and docs/personal-data.md is what the declarations say."""

from __future__ import annotations

import re

import pytest
from sqlmodel import SQLModel

from devstack import personal_data
from devstack.stack import SERVICES
from shared.migrations import service_tables
from shared.privacy import PERSONAL_KINDS, SUBJECT_KINDS

LOOKS_PERSONAL = re.compile(r"(^|_)(name|names|phone|email|address|contacts?|signature|signed_by|latitude|"
                            r"longitude|witness|counterpart|attendees|participants|engineer_ids?|engineers|"
                            r"team|comment|text|note|answers?)$")
# columns whose name looks personal but are not (or are covered otherwise), and why
NOT_PERSONAL = {
    "customer_name": "the customer company, not a person",
    "site_name": "a substation", "site_address": "a substation's address",
    "title": "a document's title", "filename": "an evidence file's name",
    "revision_note": "why a check-sheet template changed",
    "requires_witness": "whether a witness is needed (a flag)",
}
NOT_PERSONAL_COLUMNS = {
    "failure_mode.name", "notification_recipient.name", "notification_recipient.address",
    "webhook_subscription.name", "training_material.title", "questionnaire.questions",
    "case_kpi_facts.engineers", "case_conformance_summary.engineers", "engineer_kpi_facts.engineer_id",
    "routed_item.answer", "raised_item.answer", "customer_information.answer", "staffing_policy.note",
    "repair_status_entry.note", "evidence_file.filename", "issue_evidence.filename", "evidence_upload.filename",
    "site_task.title", "milestone.title", "process_record.title", "briefing_dispute.text",
    "safety_checklist.answers",
}


def _columns(service: str) -> dict[str, set[str]]:
    tables = service_tables(service)
    return {t.name: {c.name for c in t.columns} for t in SQLModel.metadata.sorted_tables
            if t.name in tables or t.name == "outbox_message"}


@pytest.mark.parametrize("decl", personal_data.declarations(), ids=lambda d: d.service)
def test_every_declared_field_is_a_column_of_the_service(decl):
    columns = _columns(decl.service)
    for f in decl.fields:
        assert f.table in columns, f"{decl.service}: no table {f.table}"
        assert f.column in columns[f.table], f"{decl.service}: {f.table} has no column {f.column}"
        assert f.kind in PERSONAL_KINDS and set(f.subjects) <= set(SUBJECT_KINDS)
        assert f.subjects or f.at, f"{f.name}: neither erased on request nor purged"
        if f.match == "owner":
            assert f.owner in columns[f.table]


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_every_column_that_looks_personal_is_declared(service):
    decl = {d.service: d for d in personal_data.declarations()}[service]
    declared = {f.name for f in decl.fields}
    missing = sorted(f"{table}.{column}" for table, cols in _columns(service).items() for column in cols
                     if LOOKS_PERSONAL.search(column) and f"{table}.{column}" not in declared
                     and f"{table}.{column}" not in NOT_PERSONAL_COLUMNS
                     and column not in NOT_PERSONAL)
    assert not missing, f"declare these in services/{service}/privacy.py or say why they are not personal"


def test_the_document_is_what_the_declarations_say():
    text = personal_data.DOCUMENT.read_text()
    assert personal_data.current(text) == personal_data.render().strip("\n"), (
        "docs/personal-data.md is stale: run `python -m devstack.personal_data`")
