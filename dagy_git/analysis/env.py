"""The variable environment of a flow walk: what each name carries, and what it may share.

Every variable carries the set of task nodes whose results reach it. Straight-line code
overwrites, branches merge (union). The environment is journaled rather than copied at each
branch, keeping the walk linear.

Names may share an object (`alias = lst`, `inner = d["k"]`, `for row in rows`), and a
mutation through one (`alias.append(x)`, `row["k"] = x`) changes what every one of them
holds. So the environment also keeps, under `alias_key(name)`, the names `name` may share an
object with; being ordinary entries, they are journaled, merged and carried like the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable

__all__ = ["EMPTY", "Deps", "FlowEnv", "alias_key", "is_alias_key"]

Deps = frozenset[str]
EMPTY: Deps = frozenset()
_UNSET: Deps = frozenset({"\0unset"})  # journal marker: the name was not bound before


def alias_key(name: str) -> str:
    """The environment key of the names that may share an object with `name`."""
    return "\0alias " + name  # no identifier contains NUL, so no clash with a variable


def is_alias_key(key: str) -> bool:
    """Whether an environment key holds sharing (see `alias_key`) rather than a variable."""
    return key.startswith("\0")


class FlowEnv:
    """What each variable of a flow body carries, journaled for branches, and its sharing."""

    def __init__(self, local_names: set[str]) -> None:
        self.env: dict[str, Deps] = {}
        self.journals: list[dict[str, Deps]] = []
        self.locals = local_names

    def put(self, name: str, deps: Deps) -> None:
        """Bind `name`, remembering its old value in the open journal (for branches)."""
        if self.journals and name not in self.journals[-1]:
            self.journals[-1][name] = self.env.get(name, _UNSET)
        self.env[name] = deps

    def push(self) -> None:
        """Open a journal: from here on, record the old value of every name bound."""
        self.journals.append({})

    def pop(self, restore: bool | Container[str]) -> dict[str, tuple[Deps, Deps]]:
        """End a journal; return {name: (value before, value now)}.

        `restore` (True, or the names to restore) puts old values back. A change that is
        kept is handed to the enclosing journal, so an enclosing branch can still undo it.
        """
        journal = self.journals.pop()
        outer = self.journals[-1] if self.journals else None
        changes = {}
        for name, before in journal.items():
            now = self.env.get(name, EMPTY)
            changes[name] = (EMPTY if before is _UNSET else before, now)
            if restore is True or (restore is not False and name in restore):
                if before is _UNSET:
                    self.env.pop(name, None)
                else:
                    self.env[name] = before
            elif outer is not None:
                outer.setdefault(name, before)
        return changes

    def assign(self, name: str, deps: Deps, refs: Iterable[str] = ()) -> None:
        """Bind `name` to a value carrying `deps` that may share objects with `refs`."""
        self.locals.add(name)
        key = alias_key(name)
        old = self.env.get(key, EMPTY)
        new = frozenset(refs)
        if name in new:  # `x = x["k"]`: part of the old object, shared as it was
            new = (new - {name}) | old
        if new != old:
            for other in old - new:
                self.put(alias_key(other), self.env.get(alias_key(other), EMPTY) - {name})
            self.put(key, new)
            for other in new - old:
                self.put(alias_key(other), self.env.get(alias_key(other), EMPTY) | {name})
        self.put(name, deps)

    def mutate(self, name: str, deps: Deps, refs: Iterable[str] = ()) -> None:
        """`name`'s object changed in place to hold a value carrying `deps` (and `refs`).

        Every name that may share the object, directly or through others, carries `deps`
        too; from now on `name` may also share objects with `refs` (it holds them).
        """
        if deps:
            seen, todo = {name}, [name]
            while todo:
                current = todo.pop()
                if not deps <= self.env.get(current, EMPTY):
                    self.put(current, self.env.get(current, EMPTY) | deps)
                for other in self.env.get(alias_key(current), EMPTY) - seen:
                    seen.add(other)
                    todo.append(other)
        for other in refs:
            if other != name and other not in self.env.get(alias_key(name), EMPTY):
                self.put(alias_key(name), self.env.get(alias_key(name), EMPTY) | {other})
                self.put(alias_key(other), self.env.get(alias_key(other), EMPTY) | {name})

    def branches(self, arms: Iterable[Callable[[], None]]) -> None:
        """Run each arm from the same state, then merge (union) what they changed."""
        ends: list[dict[str, Deps]] = []
        for arm in arms:
            self.push()
            arm()
            ends.append({name: now for name, (_, now) in self.pop(restore=True).items()})
        changed = {name for end in ends for name in end}
        for name in changed:
            before = self.env.get(name, EMPTY)
            # An arm that left `name` alone contributes its value from before the branch.
            self.put(name, frozenset().union(*(end.get(name, before) for end in ends)))
