"""Fault-injection points, armed only by the fault tests through the environment.

`FIELDSERVICE_FAILPOINTS="relay.after_publish=exit@2,consumer.after_commit=exit"` makes the
process die (as SIGKILL would: no clean-up, no flush) on the 2nd time it reaches
`relay.after_publish`, and on the first time it reaches `consumer.after_commit`. With
`FIELDSERVICE_FAILPOINT_DIR` set, a point fires once per folder (a marker file records it), so
a restarted process runs on. Never armed in production.
"""

from __future__ import annotations

import os
from pathlib import Path

_armed: dict[str, tuple[str, int]] = {}
_hits: dict[str, int] = {}


def _load() -> None:
    spec = os.environ.get("FIELDSERVICE_FAILPOINTS", "")
    if not spec or os.environ.get("ENVIRONMENT") == "production":
        return
    for item in spec.split(","):
        name, _, action = item.strip().partition("=")
        action, _, nth = action.partition("@")
        _armed[name] = (action or "exit", int(nth or 1))


def hit(name: str) -> None:
    """Mark a point in the code where a fault test may kill the process."""
    if name not in _armed:
        return
    action, nth = _armed[name]
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] != nth:
        return
    folder = os.environ.get("FIELDSERVICE_FAILPOINT_DIR")
    if folder:
        marker = Path(folder) / f"{name}.fired"
        if marker.exists():
            return
        marker.write_text(str(os.getpid()))
    if action == "exit":
        os._exit(137)


_load()
