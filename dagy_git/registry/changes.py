"""What one registry commit changed about one flow version or deployment, in words.

`log` shows, next to each entry, what a person would ask first: was it the code, a module
the flow imports, which tag keys, the schedule, the parameters, or a forced re-deploy with
nothing different. The words come from the stored JSON before and after the commit (the
blobs `git log --raw` names), so they are right for history written by any dagy-git.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["deployment_changes", "flow_changes", "tag_changes"]

# Fields that change on every write and say nothing about what the user changed.
_BOOKKEEPING = {"updated_at", "created_at", "registered_at", "deployment_version"}


def _load(data: bytes | None) -> dict[str, Any] | None:
    """A stored JSON object, or None when absent or unreadable (history may be odd)."""
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def tag_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str | None:
    """`tags +added -removed ~changed` (keys only), or None when the tags are the same."""
    before, after = old or {}, new or {}
    added = sorted(k for k in after if k not in before)
    removed = sorted(k for k in before if k not in after)
    changed = sorted(k for k in after if k in before and after[k] != before[k])
    words = [f"+{k}" for k in added] + [f"-{k}" for k in removed] + [f"~{k}" for k in changed]
    return "tags " + " ".join(words) if words else None


def flow_changes(
    record: tuple[bytes | None, bytes | None] | None,
    tags: tuple[bytes | None, bytes | None] | None,
    sources: list[str],
    action: str,
) -> list[str]:
    """What changed about one flow version: `record` and `tags` are the (before, after)
    bytes of `record.json` / `tags.json` when the commit touched them; `sources` are the
    repo-relative paths of the stored source files it touched."""
    old_rec, new_rec = (_load(record[0]), _load(record[1])) if record else (None, None)
    if record is not None and old_rec is None and new_rec is not None:
        return ["first deploy"]
    out: list[str] = []
    if old_rec and new_rec:
        if old_rec.get("code_hash") != new_rec.get("code_hash"):
            out.append("code")
        flow_file = new_rec.get("source_path")
        if old_rec.get("closure_hash") != new_rec.get("closure_hash"):
            modules = [p for p in sources if p != flow_file]
            out += [f"module {p}" for p in modules] or ["imported modules"]
        if old_rec.get("namespace") != new_rec.get("namespace"):
            out.append("namespace")
    if tags is not None:
        said = tag_changes(_load(tags[0]), _load(tags[1]))
        if said:
            out.append(said)
    if not out and action in ("updated", "registered") and old_rec is not None:
        out.append("forced")
    return out


def deployment_changes(old_data: bytes | None, new_data: bytes | None) -> list[str]:
    """What changed about one deployment between two versions of its JSON file."""
    old, new = _load(old_data), _load(new_data)
    if new is None:
        return ["retired"]
    if old is None:
        return ["new deployment"]
    out: list[str] = []
    if old.get("flow_name") != new.get("flow_name"):
        out.append(f"flow {old.get('flow_name')} -> {new.get('flow_name')}")
    if old.get("flow_version") != new.get("flow_version"):
        out.append(f"version {old.get('flow_version')} -> {new.get('flow_version')}")
    elif old.get("code_hash") != new.get("code_hash"):
        out.append("code")
    for key in ("namespace", "schedule", "timezone", "parameters"):
        if old.get(key) != new.get(key):
            out.append(key)
    said = tag_changes(old.get("tags"), new.get("tags"))
    if said:
        out.append(said)
    other = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    known = {"flow_name", "flow_version", "code_hash", "namespace", "schedule", "timezone"}
    if other - _BOOKKEEPING - known - {"parameters", "tags"}:
        out.append("other fields")
    return out or ["forced"]
