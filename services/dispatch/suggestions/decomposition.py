"""A bound by decomposition per engineer (pure, no I/O; decision 0096).

The relaxation lets an engineer take half of one case and half of another, and so spread their days
exactly to the fair share; no answer can. Pricing the rows that tie engineers together (a case takes
its head count, a team holds a lead) and giving each engineer, at those prices, the best set of cases
they could work one after another with their own balance term, found exactly, is a Lagrangian
relaxation whose value bounds every answer and, at the relaxation's own prices, is never below the
relaxation's bound. Subgradient steps then move the prices towards the best such bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from services.dispatch.suggestions.domain import BALANCE_WEIGHT, Floats, Ints, Model, Rows, dual_bound, forked


class EngineerBound:
    """S3: the Lagrangian bound over the case and lead rows of `rows(m)`; each engineer's part is solved
    exactly by dynamic programming over their options in order of end and the days taken."""

    def __init__(self, m: Model, r: Rows) -> None:
        self.m, self.r = m, r
        self.tied = len(m.head) + int(m.lead_row.sum())  # the case rows, then the lead rows (see `rows`)
        ends = m.end[m.case]
        order = np.lexsort((ends, m.engineer))
        self.order = order
        self.first = np.searchsorted(m.engineer[order], np.arange(m.engineers + 1))
        self.row_of = np.repeat(np.arange(len(r.lower)), np.diff(r.start))

    def value(self, prices: Floats) -> tuple[float, Floats]:
        """The bound at these prices of the tied rows (the others' prices are ignored), and the columns
        that reach it (the subgradient's answer)."""
        m, r, p, n_c = self.m, self.r, self.m.options, len(self.m.head)
        y = np.zeros(len(r.lower))
        y[:self.tied] = prices[:self.tied]
        _, reduced = dual_bound(r, y)  # signs put right; the tied rows' own bounds are 0, so they add nothing
        chosen = np.zeros(len(r.cost))
        staffed = reduced[p:p + n_c]
        chosen[p:p + n_c] = (staffed < 0) & (r.column_upper[p:p + n_c] > 0)
        total = r.offset + float(np.minimum(staffed * r.column_lower[p:p + n_c],
                                            staffed * r.column_upper[p:p + n_c]).sum())
        for e in range(m.engineers):
            ks = self.order[self.first[e]:self.first[e + 1]]
            ks = ks[reduced[ks] < 0]  # the balance term never falls with more days: a dearer option never pays
            if len(ks):
                part, taken = self._schedule(ks, reduced[ks])
                total += part
                chosen[taken] = 1.0
        return total, chosen

    def _schedule(self, ks: Ints, gain: Floats) -> tuple[float, Ints]:
        """S3 for one engineer: the options (in order of end) that do not overlap, minimising their priced
        cost plus the balance term; weighted interval scheduling with the days taken as a second index."""
        m = self.m
        days = m.days[m.case[ks]]
        before = np.searchsorted(m.end[m.case[ks]], m.start[m.case[ks]], side="right")  # ending by its start
        most = int(days.sum()) + 1
        best = np.full((len(ks) + 1, most), np.inf)
        best[0, 0] = 0.0
        take = np.zeros((len(ks) + 1, most), dtype=bool)
        for j in range(len(ks)):
            with_j = np.full(most, np.inf)
            with_j[days[j]:] = best[before[j], :most - days[j]] + gain[j]
            take[j + 1] = with_j < best[j]
            best[j + 1] = np.where(take[j + 1], with_j, best[j])
        totals = best[-1] + BALANCE_WEIGHT * np.maximum(0, np.arange(most) - m.share)
        load = int(np.argmin(totals))
        value = float(totals[load])
        taken, j = [], len(ks)
        while j > 0:
            if take[j, load]:
                taken.append(int(ks[j - 1]))
                load -= int(days[j - 1])
                j = int(before[j - 1])
            else:
                j -= 1
        return value, np.array(taken, dtype=np.int64)

    def improve(self, prices: Floats, *, target: int, deadline: float, step: float = 0.3,
                tell: Callable[[int], None] | None = None) -> int:
        """S3: the best bound found from `prices` by subgradient steps towards `target` (an answer's score)
        until the deadline, rounded up to the integer it proves (a relative margin covers rounding);
        `tell` hears every rise of it as it is found."""
        y = prices.copy()
        lead = slice(len(self.m.head), self.tied)
        y[lead] = np.maximum(0.0, y[lead])  # a >= row's price is never negative
        best, stalled = -math.inf, 0
        while True:
            value, chosen = self.value(y)
            if value > best + 0.5:
                best, stalled = max(best, value), 0
                if tell is not None:
                    tell(_proven(best))
            else:
                best, stalled = max(best, value), stalled + 1
                if stalled >= 5:
                    step, stalled = step / 2, 0
            if time.perf_counter() >= deadline or best >= target:
                break
            activity = np.bincount(self.row_of, weights=self.r.value * chosen[self.r.column],
                                   minlength=len(self.r.lower))[:self.tied]
            norm = float(activity @ activity)
            if norm == 0:  # the priced answer meets every tied row: the bound is the optimum's
                break
            y[:self.tied] -= step * (target - value) / norm * activity
            y[lead] = np.maximum(0.0, y[lead])
        return _proven(best)


def _proven(value: float) -> int:
    """The integer objective a float bound proves (a relative margin covers rounding)."""
    return math.ceil(value - 1e-7 * max(1.0, abs(value)))


def _worker(conn: Any, bound: EngineerBound, prices: Floats, target: int, deadline: float) -> None:
    bound.improve(prices, target=target, deadline=deadline, tell=conn.send)
    conn.close()


def bound_beside(m: Model, r: Rows, prices: Floats, *, target: int,
                 deadline: float) -> Callable[[float], int | None] | None:
    """S3: `EngineerBound.improve` in a forked worker process (on a second core) until the deadline while the
    caller searches, telling every rise of its bound; the returned function (given how long it may wait for a
    first word) stops it and answers the best bound it told (None if none). None where a process cannot be
    forked."""
    started = forked(_worker, EngineerBound(m, r), prices, target, deadline)
    if started is None:
        return None
    receive, worker = started

    def collect(wait: float = 0.0) -> int | None:
        told: int | None = None
        try:
            while receive.poll(wait):
                wait = 0.0
                told = int(receive.recv())
        except (EOFError, OSError):  # the worker has ended: what it told before still holds
            pass
        finally:
            worker.kill()
            worker.join(1.0)
            receive.close()
        return told

    return collect
