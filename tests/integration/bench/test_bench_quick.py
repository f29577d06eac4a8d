"""The benchmarks' building blocks on tiny sizes: they run end to end and produce well-formed results.

Structure only, never timings (the figures belong in docs/performance.md, written by `make bench`).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import common, event_benchmark, http_benchmark, scale_benchmark
from bench.__main__ import growth_table, summary


@pytest.fixture(scope="module")
def infra():
    with common.infrastructure() as infra:
        yield infra


# one_clock: the benchmarks' shapes do not depend on the day (make test-calendar)
pytestmark = pytest.mark.one_clock


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not math.isnan(x)


def test_http_benchmark_shape(infra) -> None:
    res = http_benchmark.run(infra, concurrencies=[1, 2], duration=0.5, rate=10, rate_duration=0.5, warmup=0.3)
    assert set(res["concurrency"]) == {1, 2}
    for point in res["concurrency"].values():
        for target in ("minimal", "create", "get"):
            assert point[target]["requests"] > 0 and point[target]["errors"] == 0
            assert _is_number(point[target]["p99_ms"])
    assert set(res["rate"]) == {"minimal", "create", "get"}
    table = http_benchmark.table(res)
    assert table.count("\n| ") >= 5 and "create / minimal" in table
    assert next(name for name, _, _ in http_benchmark.targets(res)).startswith("create-case")
    _RESULTS["http"] = res


def test_event_benchmark_shape(infra) -> None:
    res = event_benchmark.run(infra, rates=[20, 40], latency_seconds=0.5, backlogs=[50])
    assert [r["rate"] for r in res["latency"]] == [20, 40]
    for r in res["latency"]:
        assert r["events"] > 0 and _is_number(r["p99_ms"]) and r["p99_ms"] >= r["p50_ms"] > 0
    assert res["throughput"][0]["events"] == 50 and res["throughput"][0]["per_second"] > 0
    assert "commit -> commit" in event_benchmark.latency_table(res)
    assert "relay alone" in event_benchmark.throughput_table(res)
    _RESULTS["events"] = res


def test_scale_benchmark_shape(infra) -> None:
    res = scale_benchmark.run(infra, sizes=[50, 100, 200], repeats=2)
    assert [s["load"]["cases"] for s in res["sizes"]] == [50, 100, 200]
    assert [s["load"]["events"] for s in res["sizes"]] == [500, 1000, 2000]
    for s in res["sizes"]:
        assert set(s["queries"]) >= {"first page", "deep page (keyset cursor past 90%)", "conformance of one case"}
        assert all(_is_number(q["p95_ms"]) for q in s["queries"].values())
        for search in ("engineer filter (one of 2,000)", "customer search (one customer of 5,000)", "first page"):
            assert s["queries"][search]["items"] > 0, search  # the searches find cases
    assert "conformance of one case" in scale_benchmark.table(res)
    _RESULTS["scale"] = res


def test_document_sections(tmp_path: Path, monkeypatch) -> None:
    if not _RESULTS:
        pytest.skip("needs the results of the tests above")
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\n<!-- assignment-benchmark:begin -->\nkept\n<!-- assignment-benchmark:end -->\n")
    monkeypatch.setenv("BENCH_DOC", str(doc))
    growth = growth_table(_RESULTS)
    assert growth.count("\n| ") >= 3
    for _ in range(2):  # a rerun replaces the sections, never duplicates them
        common.write_section("growth", "5. How cost grows", growth)
        common.write_section("summary", "Machine and targets", summary(common.machine(), [("t", True, "1")],
                                                                       {"http": 1.0}))
    text = doc.read_text()
    assert text.count("<!-- bench-growth:begin -->") == 1 and "kept" in text
    assert "cores" in text and "| t | yes | 1 |" in text


_RESULTS: dict = {}
