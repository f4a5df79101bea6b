"""Writing the registry: a `Transaction` becomes one commit plus its version tags.

Everything is checked first (names, the version tags the operation moves, the source
commits the tags point at); then every object is hashed in Python (`gitobjects`) and handed
to git as one pack; only the tree folders the operation touches are rewritten, the rest are
reused from the base tree by id. Moving refs is the caller's last step (`Registry.write`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagy_git import gitio
from dagy_git.errors import RegistryError
from dagy_git.gitio import RefUpdate
from dagy_git.gitobjects import BLOB_MODE, TREE_MODE, ObjectSet
from dagy_git.hashing import canonical_bytes
from dagy_git.names import (
    encode_name,
    encode_version,
    validate_name,
    validate_namespace,
    validate_version,
)
from dagy_git.registry.log import format_message
from dagy_git.registry.snapshot import FORMAT, MARKER, Snapshot, TagInfo
from dagy_git.registry.types import ACTIONS, MOVES_TAG, Key, Transaction, WriteResult

if TYPE_CHECKING:
    from pathlib import Path

    from dagy_git.models import FlowRecord

__all__ = ["build", "check", "check_tags", "clean_path", "record_json"]


class _Replace(dict[str, "str | _Edits | None"]):
    """A folder whose old content is dropped (a flow version's `source/`)."""


_Edits = dict[str, "str | _Edits | None"]


def _check(txn: Transaction) -> None:
    """Refuse a malformed transaction before anything is written."""
    seen: set[Key] = set()
    for fw in txn.flows:
        if fw.action not in ACTIONS:
            raise ValueError(f"unknown action {fw.action!r}; expected one of {ACTIONS}")
        validate_name(fw.record.flow_name)
        validate_version(fw.record.flow_version)
        validate_namespace(fw.record.namespace)
        if fw.key in seen:
            raise ValueError(f"{fw.key[0]}@{fw.key[1]} appears twice in one transaction")
        seen.add(fw.key)
        if fw.source is not None:
            base = fw.source[0]
            if (
                not base
                or "/" in base
                or "\0" in base
                or "\n" in base
                or base in (".", "..")
                or base.lower() == ".git"
            ):
                raise RegistryError(
                    f"{base!r} cannot be stored as a source file name",
                    hint="flow files need an ordinary file name",
                )
            for rel in fw.closure:
                if not clean_path(rel) or (rel.split("/")[0] == base and "/" in rel):
                    raise RegistryError(
                        f"{rel!r} cannot be stored as a source path of {fw.key[0]}@{fw.key[1]}",
                        hint="repository modules need ordinary repo-relative paths",
                    )
    names = [d.name for d in txn.deployments] + list(txn.retired)
    if len(set(names)) != len(names):
        raise ValueError("a deployment appears twice in one transaction")
    for name in names:
        validate_name(name, "deployment name")
    for draft_id in txn.drafts:
        validate_name(draft_id, "draft id")
    if txn.author is not None and any(c in "".join(txn.author) for c in "<>\n"):
        raise ValueError(f"invalid author {txn.author!r}")


def record_json(rec: FlowRecord) -> dict[str, object]:
    """record.json's content: fields added after format 1 are left out while unset."""
    return rec.to_json()


def clean_path(path: str) -> bool:
    """A normalised repo-relative POSIX path that git can store as nested tree entries."""
    parts = path.split("/")
    return not any(
        p in ("", ".", "..") or p.lower() == ".git" or "\0" in p or "\n" in p or "\\" in p
        for p in parts
    )


def _edits(txn: Transaction, objs: ObjectSet, fresh: bool) -> _Edits:
    """The tree changes of a transaction, as nested `{name: blob id | None | {…}}`."""
    flows: _Edits = {}
    for fw in txn.flows:
        rec = fw.record
        folder: _Edits = {
            "spec.json": objs.blob(canonical_bytes(fw.spec)),
            "record.json": objs.blob(canonical_bytes(record_json(rec))),
            "tags.json": objs.blob(canonical_bytes(fw.tags)),
        }
        if fw.source is not None:
            source = _Replace({fw.source[0]: objs.blob(fw.source[1])})
            for rel, data in sorted(fw.closure.items()):
                *dirs, name = rel.split("/")
                here: _Edits = source
                for part in dirs:
                    sub = here.setdefault(part, {})
                    assert isinstance(sub, dict)  # built here; clean paths never clash
                    here = sub
                here[name] = objs.blob(data)
            folder["source"] = source
        by_name = flows.setdefault(encode_name(rec.flow_name), {})
        assert isinstance(by_name, dict)  # built here
        by_name[encode_version(rec.flow_version)] = folder
    edits: _Edits = {}
    if fresh:
        edits[MARKER] = objs.blob(canonical_bytes({"format": FORMAT}))
    if flows:
        edits["flows"] = flows
    if txn.deployments or txn.retired:
        deployments: _Edits = {
            f"{d.name}.json": objs.blob(canonical_bytes(d.model_dump(mode="json")))
            for d in txn.deployments
        }
        deployments.update({f"{name}.json": None for name in txn.retired})
        edits["deployments"] = deployments
    if txn.drafts:
        edits["drafts"] = {
            f"{i}.json": None
            if d is None
            else objs.blob(canonical_bytes(d.model_dump(mode="json")))
            for i, d in txn.drafts.items()
        }
    return edits


def _build_tree(objs: ObjectSet, snap: Snapshot, base: str | None, edits: _Edits) -> str | None:
    """Apply `edits` to tree `base`; untouched subtrees keep their ids. None if empty."""
    entries = dict(snap.read_tree(base)) if base else {}
    for name, edit in edits.items():
        if edit is None:
            entries.pop(name, None)
        elif isinstance(edit, str):
            entries[name] = (BLOB_MODE, edit)
        else:
            old = entries.get(name)
            child_base = (
                old[1] if old and old[0] == TREE_MODE and not isinstance(edit, _Replace) else None
            )
            child = _build_tree(objs, snap, child_base, edit)
            if child is None:
                entries.pop(name, None)
            else:
                entries[name] = (TREE_MODE, child)
    return objs.tree(entries) if entries else None


def check_tags(base: Snapshot, txn: Transaction) -> dict[Key, TagInfo]:
    """The version tags this write moves, refusing any not made by dagy-git for the record
    it believes in (a hand-made, lightweight or moved tag)."""
    keys = [fw.key for fw in txn.flows if fw.action in MOVES_TAG]
    if not keys:
        return {}
    tags = base.version_tags(keys)
    records = base.records([k for k in keys if k in tags])
    for key, info in tags.items():
        rec = records.get(key)
        name = info.ref[len("refs/tags/") :]
        problem = None
        if not info.annotated:
            problem = "is a lightweight tag, not one made by dagy-git"
        elif not info.made_by_dagy:
            problem = "was not made by dagy-git (its message has no Dagy-Code-Hash)"
        elif rec is None:
            problem = f"exists, but {base.label} has no record of {key[0]}@{key[1]}"
        elif info.target != rec.source_commit:
            problem = (
                f"points at {(info.target or '?')[:12]}, but {base.label} records source "
                f"commit {(rec.source_commit or 'none')[:12]}"
            )
        elif rec.code_hash is not None and info.code_hash != rec.code_hash:
            # (a legacy record without code_hash cannot vouch for any hash: not compared)
            problem = (
                f"names code hash {(info.code_hash or 'none')[:12]}, but {base.label} "
                f"records {(rec.code_hash or 'none')[:12]}"
            )
        if problem:
            if base.remote is not None:
                hint = (
                    f"if {base.label} is right, delete the remote's tag (`git push "
                    f"{base.remote.remote} :refs/tags/{name}`) and run again"
                )
            else:
                hint = (
                    "if the remote's registry is right, run `dagy-git pull`; if this one is, "
                    f"delete the local tag (`git tag -d {name}`) and run again"
                )
            raise RegistryError(f"version tag {name} {problem}; nothing was written", hint=hint)
    return tags


def _check_sources(base: Snapshot, txn: Transaction) -> None:
    """A version tag must point at a commit this repository has."""
    commits = sorted(
        {
            fw.record.source_commit
            for fw in txn.flows
            if fw.action in MOVES_TAG and fw.record.source_commit
        }
    )
    found = base.reader.read_many([f"{c}^{{commit}}" for c in commits])
    for commit, obj in zip(commits, found, strict=True):
        if obj is None:
            raise RegistryError(
                f"source commit {commit} is not a commit of this repository",
                hint="deploy from a commit of this repository",
            )


def check(base: Snapshot, txn: Transaction) -> dict[Key, TagInfo]:
    """Everything that would refuse `txn` on top of `base`, without writing anything
    (so a dry run is refused exactly where the real run would be)."""
    _check(txn)
    current = check_tags(base, txn)
    _check_sources(base, txn)
    return current


def build(
    root: Path, base: Snapshot, txn: Transaction, *, branch_ref: str, object_format: str
) -> WriteResult:
    """Check `txn`, write its commit and tag objects, and return the ref moves to make."""
    current = check(base, txn)
    objs = ObjectSet(object_format)
    zero = objs.zero
    base_tree = None
    if base.commit is not None:
        head = base.reader.read(base.commit)
        assert head is not None  # check_format read it
        base_tree = head.data.split(b"\n", 1)[0].decode().split(" ")[1]
    tree = _build_tree(objs, base, base_tree, _edits(txn, objs, fresh=base.commit is None))
    assert tree is not None  # the marker file is always there
    author = gitio.ident(root, "AUTHOR", txn.author)
    committer = gitio.ident(root, "COMMITTER")
    parents = [base.commit] if base.commit else []
    commit = objs.commit(tree, parents, author, committer, format_message(txn))

    updates = [RefUpdate(branch_ref, commit, base.commit or zero)]
    moving = {fw.key: fw for fw in txn.flows if fw.action in MOVES_TAG}
    # Old values: what the refs hold where they will be moved (the remote's, when pushing).
    refs = [base.tag_ref(*k) for k in moving]
    olds = base.remote.tags if base.remote is not None else base.tag_values(refs)
    for key, fw in moving.items():
        ref = base.tag_ref(*key)
        old = olds.get(ref, zero)
        rec = fw.record
        if rec.source_commit:
            name = ref[len("refs/tags/") :]
            message = (
                f"{key[0]}@{key[1]}\n\nDagy-Code-Hash: {rec.code_hash or ''}\n"
                f"Dagy-Namespace: {rec.namespace}\nDagy-Registry-Commit: {commit}\n"
            )
            updates.append(
                RefUpdate(ref, objs.tag(rec.source_commit, "commit", name, committer, message), old)
            )
        elif key in current:  # no commit to point at: a tag would lie, so it goes
            updates.append(RefUpdate(ref, zero, old))
    if base.remote is not None:  # local tags the remote lacks travel with this write
        lease = base.remote.tags
        touched = {u.ref for u in updates}
        updates += [
            RefUpdate(r, v, lease.get(r, zero))
            for r, v in sorted(base.carry.items())
            if r not in touched
        ]
    gitio.store_pack(root, objs.pack(), len(objs.objects))
    return WriteResult(commit, base.commit, updates)
