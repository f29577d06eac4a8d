"""Personal data rules (decision 0093): pseudonyms, what erasure replaces, retention on a pinned clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.privacy import (
    Retention,
    is_pseudonym,
    names_of,
    pseudonym,
    scrub,
    scrub_keys,
    scrub_text,
    value_pseudonym,
)

KEY = b"test-key"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONTACTS = {"customer_contact": {"name": "Li Wei", "phone": "+86 139 0000 0001", "email": "li.wei@grid.cn"},
            "site_interface": {"name": "Wang Fang", "phone": None, "email": "wang@grid.cn"}}


def test_a_subject_has_one_stable_pseudonym_whatever_the_case_of_its_address():
    a = pseudonym(KEY, "customer_contact", "Li.Wei@Grid.cn ")
    assert a == pseudonym(KEY, "customer_contact", "li.wei@grid.cn") and is_pseudonym(a)
    assert a != pseudonym(KEY, "engineer", "li.wei@grid.cn")
    assert a != pseudonym(b"other-key", "customer_contact", "li.wei@grid.cn")
    assert len(a) == len("erased-") + 16


def test_the_names_of_a_subject_are_those_of_the_objects_holding_it():
    assert names_of(CONTACTS, "LI.WEI@grid.cn") == {"Li Wei"}
    assert names_of([{"engineer_id": "eng-1", "name": "Zhang San"}, {"engineer_id": "eng-2", "name": "Zhao"}],
                    "eng-1") == {"Zhang San"}
    assert names_of({"a": {"name": "erased-0123456789abcdef", "email": "x@y.cn"}}, "x@y.cn") == set()


def test_scrub_replaces_the_person_and_keeps_the_record():
    event = {"contacts": CONTACTS, "witness_name": "Li Wei", "value": 12.5, "at": "2026-03-01T08:00:00Z",
             "steps": ["S17", "Li Wei"]}
    out = scrub(event, ["li.wei@grid.cn", "Li Wei", "+86 139 0000 0001"], "erased-x")
    assert out["contacts"]["customer_contact"] == {"name": "erased-x", "phone": "erased-x", "email": "erased-x"}
    assert out["contacts"]["site_interface"] == CONTACTS["site_interface"]
    assert out["witness_name"] == "erased-x" and out["steps"] == ["S17", "erased-x"]
    assert out["value"] == 12.5 and out["at"] == "2026-03-01T08:00:00Z"
    assert scrub(out, ["li.wei@grid.cn", "Li Wei"], "erased-x") == out  # a second erasure changes nothing


def test_free_text_loses_whole_identifiers_only():
    text = "eng-1 and eng-10 met Li Wei (li.wei@grid.cn). 联系人李伟说好"
    assert scrub_text(text, ["eng-1", "li.wei@grid.cn", "Li Wei", "李伟"], "P") == "P and eng-10 met P (P). 联系人P说好"


def test_retention_pseudonymises_the_values_under_the_keys_and_clears_locations():
    payload = {"engineer_id": "eng-1", "latitude": 31.2, "longitude": 121.5, "witness_name": "Li Wei",
               "attendees": ["Li Wei", "Wang Fang"], "name": value_pseudonym(KEY, "Zhao")}
    named = scrub_keys(payload, ("witness_name", "attendees", "name"), KEY)
    assert named["witness_name"] == value_pseudonym(KEY, "Li Wei")
    assert named["attendees"] == [value_pseudonym(KEY, "Li Wei"), value_pseudonym(KEY, "Wang Fang")]
    assert named["name"] == payload["name"] and named["engineer_id"] == "eng-1"
    assert scrub_keys(named, ("witness_name", "attendees", "name"), KEY) == named
    located = scrub_keys(payload, ("latitude", "longitude"), KEY, clear=True)
    assert located["latitude"] is None and located["longitude"] is None and located["witness_name"] == "Li Wei"


def test_retention_counts_days_per_kind_from_a_pinned_clock():
    retention = Retention({"location": 90, "contact": 0})
    assert retention.cutoff("location", NOW) == NOW - timedelta(days=90)
    assert retention.cutoff("contact", NOW) is None  # 0 keeps the kind
    assert retention.cutoff("signature", NOW) is None  # not configured: kept
