"""The messages' text: Jinja2 templates per language (`templates/<zh|en>/<name>.txt`, each with a
`subject` and a `body` block), rendered once when the message is queued (decision 0090)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from services.dispatch.notifications.domain import Language

REPAIR_STATUS_ZH = {"received": "已接收", "diagnosed": "已诊断", "repaired": "已修复", "tested": "已测试",
                    "shipped_back": "已寄回"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    # plain text, never HTML: no autoescaping; a missing value is an error (caught by the caller and
    # recorded on the message), not a silently empty line
    return Environment(loader=PackageLoader("services.dispatch.notifications", "templates"), autoescape=False,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


def template(name: str, language: Language) -> Template:
    return environment().get_template(f"{language.value}/{name}.txt")


def _when(zone: tzinfo, language: Language) -> Any:
    """A moment of the event (ISO text or datetime) in site time, e.g. `2026-12-01 09:00 (Asia/Shanghai)`."""
    def when(value: object) -> str:
        if value is None or value == "":
            return "-"
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            return moment.strftime("%Y-%m-%d %H:%M")
        local = moment.astimezone(zone)
        return f"{local:%Y-%m-%d %H:%M} ({getattr(zone, 'key', None) or local.tzname()})"
    return when


def render(name: str, language: Language, *, case: Mapping[str, Any], data: Mapping[str, Any], event_type: str,
           step: str, audience: str, recipient_name: str | None, zone: tzinfo) -> Rendered:
    """The subject and body of template `name` in `language` for one recipient."""
    t = template(name, language)
    context = t.new_context({
        "case": case, "data": data, "event_type": event_type, "step": step, "audience": audience,
        "recipient_name": recipient_name, "when": _when(zone, language),
        "status_zh": REPAIR_STATUS_ZH.get(str(data.get("status")), str(data.get("status", ""))),
    })
    subject = "".join(t.blocks["subject"](context)).strip()
    body = "".join(t.blocks["body"](context)).strip() + "\n"
    return Rendered(subject=" ".join(subject.split()), body=body)
