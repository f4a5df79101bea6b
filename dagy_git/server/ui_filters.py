"""The Flows page's filter: tag chips (AND), a namespace subtree and a name search, kept
in the URL's query string so a filtered view is a link that can be shared.

`?tag=team:data-eng&tag=env:prod&namespace=data&q=orders`. Every chip on the page is a link
to this filter with one thing added or removed, so the page works without a script.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from dagy_git.errors import DagyError
from dagy_git.names import validate_namespace, validate_tag

__all__ = ["Filters", "parse_filters"]

MAX_QUERY = 200


@dataclass(frozen=True)
class Filters:
    """What the grid is narrowed to; the empty filter shows every flow."""

    tags: tuple[tuple[str, str], ...] = ()
    namespace: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        """Whether anything narrows the grid."""
        return bool(self.tags or self.namespace or self.q)

    def has_tag(self, key: str, value: str) -> bool:
        """Whether `key:value` is one of the tag filters."""
        return (key, value) in self.tags

    def with_tag(self, key: str, value: str) -> Filters:
        """This filter plus one more tag (AND); a key already filtered gets the new value."""
        kept = tuple((k, v) for k, v in self.tags if k != key)
        return replace(self, tags=(*kept, (key, value)))

    def without_tag(self, key: str, value: str) -> Filters:
        """This filter with one tag chip removed."""
        return replace(self, tags=tuple(t for t in self.tags if t != (key, value)))

    def toggle_tag(self, key: str, value: str) -> Filters:
        """What clicking a tag chip does: add it, or remove it when it is already active."""
        if self.has_tag(key, value):
            return self.without_tag(key, value)
        return self.with_tag(key, value)

    def with_namespace(self, namespace: str) -> Filters:
        """This filter narrowed to a namespace subtree (clicking the active one clears it)."""
        return replace(self, namespace="" if namespace == self.namespace else namespace)

    def url(self, path: str = "/") -> str:
        """The page URL of this filter."""
        query: list[tuple[str, str]] = [("tag", f"{k}:{v}") for k, v in self.tags]
        if self.namespace:
            query.append(("namespace", self.namespace))
        if self.q:
            query.append(("q", self.q))
        return f"{path}?{urlencode(query)}" if query else path

    def matches(self, name: str, namespace: str, tags: dict[str, str]) -> bool:
        """Whether a flow passes: every tag chip, the namespace subtree, the name search."""
        if any(tags.get(k) != v for k, v in self.tags):
            return False
        return self.in_namespace(namespace) and self.q.casefold() in name.casefold()

    def in_namespace(self, namespace: str) -> bool:
        """Whether a namespace lies in the filtered subtree (`data` ⊃ `data/orders`, not
        `database`)."""
        return (
            not self.namespace
            or namespace == self.namespace
            or namespace.startswith(self.namespace + "/")
        )


def parse_filters(tags: Iterable[str], namespace: str | None, q: str | None) -> Filters:
    """The filter of a query string; a malformed part is a DagyError naming it."""
    pairs: list[tuple[str, str]] = []
    for item in tags:
        key, sep, value = item.partition(":")
        if not sep:
            raise DagyError(
                f"tag filter {item!r} is not key:value", hint="for example tag=team:data-eng"
            )
        validate_tag(key, value)
        if (key, value) not in pairs:
            pairs.append((key, value))
    ns = (namespace or "").strip("/")
    validate_namespace(ns)
    query = (q or "").strip()
    if len(query) > MAX_QUERY:
        raise DagyError(f"search text is longer than {MAX_QUERY} characters")
    return Filters(tags=tuple(pairs), namespace=ns, q=query)
