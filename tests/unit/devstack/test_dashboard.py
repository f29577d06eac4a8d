"""The dashboard renderer's arithmetic (rates and quantiles from Prometheus samples)."""

from __future__ import annotations

from devstack.dashboard import _p95, _rate, render


def test_rate_over_a_sliding_window():
    points = [(float(t), 10.0 * t) for t in range(0, 11)]
    rates = dict(_rate(points, window=5.0))
    assert rates[10.0] == 10.0 and rates[5.0] == 10.0


def test_p95_from_cumulative_buckets():
    def sample(t: float, le: str, v: float) -> tuple:
        return (("le", le), ("service", "onsite")), (t, v)

    store: dict = {}
    for t, counts in ((0.0, (0, 0, 0)), (10.0, (90, 99, 100))):
        for le, v in zip(("0.1", "0.5", "+Inf"), counts, strict=True):
            key, point = sample(t, le, v)
            store.setdefault(key, []).append(point)
    assert _p95(store, "service")["onsite"] == [(10.0, 0.5)]


def test_render_writes_a_png(tmp_path):
    store = {"outbox_backlog": {(("service", "dispatch"),): [(0.0, 1.0), (1.0, 0.0)]}}
    out = tmp_path / "d.png"
    render(store, 0.0, out)
    assert out.read_bytes().startswith(b"\x89PNG")
