"""Render the operations dashboard to a PNG from a live stack's own /metrics.

No Grafana runs on the development machine, so this draws the panels of
`deploy/grafana/dashboards/fieldservice.json` with matplotlib from the same series, sampled
every second from the four services while demo cases run through them:
`make dashboard-png` writes docs/dashboard.png.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devstack.client import StackClient
from devstack.demo import run_slice
from devstack.servers import free_port
from devstack.stack import ROOT, SERVICES
from devstack.supervisor import LocalStack

OUTPUT = ROOT / "docs" / "dashboard.png"
IGNORED_ROUTES = {"/healthz", "/readyz", "/metrics", "unmatched"}
Series = dict[tuple, list[tuple[float, float]]]


def scrape(ports: dict[str, int], at: float, store: dict[str, Series]) -> None:
    """One sample of every series of every service, appended to `store[metric][labels]`."""
    for port in ports.values():
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.HTTPError:
            continue
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = tuple(sorted(sample.labels.items()))
                store.setdefault(sample.name, defaultdict(list))[key].append((at, sample.value))


def _rate(points: list[tuple[float, float]], window: float = 5.0) -> list[tuple[float, float]]:
    out = []
    for i, (t, v) in enumerate(points):
        j = next((k for k in range(i, -1, -1) if t - points[k][0] >= window), 0)
        t0, v0 = points[j]
        if t > t0:
            out.append((t, max(0.0, v - v0) / (t - t0)))
    return out


def _by(store: Series, label: str,
        keep: Callable[[dict[str, str]], bool] = lambda labels: True) -> dict[str, list[tuple[float, float]]]:
    """Sum series by one label, sample by sample."""
    grouped: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for key, points in store.items():
        labels = dict(key)
        if not keep(labels):
            continue
        for t, v in points:
            grouped[labels.get(label, "")][t] += v
    return {name: sorted(values.items()) for name, values in grouped.items()}


def _p95(store: Series, label: str, keep: Callable[[dict[str, str]], bool] = lambda labels: True,
         window: float = 5.0) -> dict[str, list]:
    """p95 from histogram buckets over a sliding window, by one label."""
    buckets: dict[str, dict[float, dict[float, float]]] = defaultdict(lambda: defaultdict(dict))
    for key, points in store.items():
        labels = dict(key)
        if not keep(labels):
            continue
        le = float(labels["le"])
        for t, v in points:
            buckets[labels.get(label, "")][t][le] = buckets[labels.get(label, "")][t].get(le, 0.0) + v
    result = {}
    for name, by_time in buckets.items():
        times = sorted(by_time)
        series = []
        for i, t in enumerate(times):
            j = next((k for k in range(i, -1, -1) if t - times[k] >= window), 0)
            delta = {le: by_time[t][le] - by_time[times[j]].get(le, 0.0) for le in by_time[t]}
            total = delta.get(float("inf"), 0.0)
            if total <= 0:
                continue
            target = 0.95 * total
            bound = next((le for le in sorted(delta) if delta[le] >= target), float("inf"))
            series.append((t, bound if bound != float("inf") else max(k for k in delta if k != float("inf"))))
        result[name] = series
    return result


def render(store: dict[str, Series], started: float, output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real = lambda labels: labels.get("route") not in IGNORED_ROUTES  # noqa: E731
    panels = [
        ("Request rate by service (req/s)", {k: _rate(v) for k, v in _by(
            store.get("http_requests_total", {}), "service", real).items()}),
        ("p95 latency by service (s)", _p95(store.get("http_request_duration_seconds_bucket", {}), "service", real)),
        ("Outbox backlog (unsent rows)", _by(store.get("outbox_backlog", {}), "service")),
        ("Oldest unsent event age (s)", _by(store.get("outbox_oldest_unsent_age_seconds", {}), "service")),
        ("Consumer lag (messages)", _by(store.get("consumer_lag", {}), "service")),
        ("Handler duration p95 (s)", _p95(store.get("event_handler_duration_seconds_bucket", {}), "service")),
        ("Events applied by consumers (ev/s)", {k: _rate(v) for k, v in _by(
            store.get("events_processed_total", {}), "service").items()}),
        ("Cases by status", _by(store.get("cases_by_status", {}), "status")),
        ("Visits on site, calls due, issues past SLA", {
            "visits on site": _by(store.get("visits_on_site", {}), "service").get("onsite", []),
            "follow-up calls due": _by(store.get("follow_up_calls_due", {}), "service").get("feedback", []),
            "issues past SLA": _by(store.get("issues_past_sla", {}), "service").get("quality", []),
        }),
    ]
    fig, axes = plt.subplots(3, 3, figsize=(18, 11))
    fig.suptitle("Field-service platform — operations dashboard (rendered from the services' /metrics)",
                 fontsize=14)
    for ax, (title, series) in zip(axes.flat, panels, strict=True):
        ax.set_title(title, fontsize=10)
        for name, points in sorted(series.items()):
            if points:
                ax.plot([t - started for t, _ in points], [v for _, v in points], label=name or "-")
        ax.set_xlabel("seconds", fontsize=8)
        ax.grid(alpha=0.3)
        if any(series.values()):
            ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=80)
    plt.close(fig)


def main(cases: int = 24, concurrency: int = 4, output: Path = OUTPUT) -> Path:
    """Start a stack on free ports, run demo cases while sampling /metrics, draw the PNG."""
    tmp = Path(tempfile.mkdtemp(prefix="fieldservice-dashboard-"))
    stack = LocalStack(data_dir=tmp, pg_port=free_port(), broker_port=free_port(),
                       service_ports={s.name: free_port() for s in SERVICES}, quiet=True,
                       extra_env={"LOG_LEVEL": "WARNING", "FOLLOW_UP_DELAY_BUSINESS_DAYS": "0"})
    store: dict[str, Series] = {}
    try:
        stack.start_infrastructure()
        stack.start_services(timeout=120)
        started = time.monotonic()
        done = threading.Event()

        def sampler() -> None:
            while not done.is_set():
                scrape(stack.service_ports, time.monotonic(), store)
                done.wait(1.0)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        client = StackClient(stack.service_ports)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(run_slice, client, timeout=120, say=lambda _l: None) for _ in range(cases)]:
                future.result()
        time.sleep(5)  # the tail of the event flow drains into the panels
        done.set()
        thread.join(5)
        client.close()
        render(store, started, output)
        return output
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print(f"wrote {main()}")
