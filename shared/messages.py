"""Messages a client reads, kept translatable (decision 0094).

`msg("S3: engineer {engineer} is not active", engineer=...)` is the English sentence (a `str`, so
comparisons, logs and tests keep working) that also remembers its template and parameters, so the
web layer can render it again in Chinese from the message catalogue (`shared.i18n`). Pure: domain
modules import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Msg(str):
    """An English message with the template and parameters it was made from."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Msg:
        text = template.format(**params) if params else template
        made = super().__new__(cls, text)
        made.template = template
        made.params = params
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies and pickles keep the template (a plain str subclass would lose it).
        return (_rebuild, (self.template, self.params))


def _rebuild(template: str, params: dict[str, Any]) -> Msg:
    return Msg(template, **params)


def msg(template: str, /, **params: Any) -> str:
    """A translatable message: `template` is the English text (the catalogue's key), with
    `{name}` placeholders filled from `params`. Extracted by `devstack.cli messages`.

    Typed `str` (it is one: a `Msg`), so lists of messages and of plain strings mix freely."""
    return Msg(template, **params)


class Joined(str):
    """Several messages joined by a separator, each translated on its own."""

    items: tuple[str, ...]
    sep: str

    def __new__(cls, items: Iterable[str], sep: str = ", ") -> Joined:
        parts = tuple(items)
        made = super().__new__(cls, sep.join(parts))
        made.items = parts
        made.sep = sep
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (Joined, (self.items, self.sep))
