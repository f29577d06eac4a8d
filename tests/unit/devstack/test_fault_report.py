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


def test_a_run_of_some_scenarios_keeps_the_other_rows_marked_with_their_run() -> None:
    from tests.faults.report import _with_earlier_rows

    earlier = ("Run started 2026-11-27 at commit `96f90b5`, 49.7 min.\n\n| scenario | result |\n|---|---|\n"
               "| `test_a` | passed | 4.5 min |\n| `test_b` | passed | 3.0 min |\n\n## What each scenario checks\n")
    now = "Run at commit `abc1234`.\n\n| scenario | result |\n|---|---|\n| `test_b` | passed | 9.0 min |\n\n## What\n"
    merged = _with_earlier_rows(now, earlier)
    assert "| `test_b` | passed | 9.0 min |" in merged and "3.0 min" not in merged
    assert "| `test_a` | passed (run at `96f90b5`) | 4.5 min |" in merged
    assert merged.index("test_b") < merged.index("test_a") < merged.index("## What")
