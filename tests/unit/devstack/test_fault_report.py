"""The fault report `make chaos` writes: one row per scenario with its reconciliation counts."""

from __future__ import annotations

from tests.faults.harness import Reconciliation
from tests.faults.report import FaultReport


def test_each_scenario_is_a_row_with_its_counts(tmp_path, monkeypatch):
    report = FaultReport()
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/faults/test_faults.py::test_poison (call)")
    report.reconciled(Reconciliation(cases=300, events_published=13_200, timeline_entries=13_200,
                                     duplicates_absorbed=2, problems=[], restarts={"dispatch-worker": 1},
                                     dead_letters=4))
    report.finished("tests/faults/test_faults.py::test_poison", "passed", 330.0)
    report.finished("tests/faults/test_faults.py::test_broken", "failed", 12.0)
    path = tmp_path / "faults.md"
    report.write(path, cases=300, concurrency=32, broker_pause=60)
    text = path.read_text()
    assert "| `test_poison` | passed | 5.5 min | 300 | 13200 | 13200 | 2 | 4 | dispatch-worker 1 | 0 |" in text
    assert "| `test_broken` | failed | 0.2 min | - |" in text
    assert "300 new cases (32 at a time)" in text and "60 s" in text


def test_what_each_scenario_checks_is_its_docstrings_first_paragraph(tmp_path):
    report = FaultReport()
    report.describe("test_poison", """8. Invalid payload, unknown type:
        dead-lettered with origin and error.

        How: injected on dispatch's topic.""")
    report.describe("test_undocumented", None)
    path = tmp_path / "faults.md"
    report.write(path, cases=4, concurrency=4, broker_pause=5)
    text = path.read_text()
    assert "## What each scenario checks\n\n- `test_poison`: 8. Invalid payload, unknown type: dead-lettered with " \
           "origin and error.\n" in text
    assert "How:" not in text and "test_undocumented" not in text
