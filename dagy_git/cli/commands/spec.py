"""`dagy-git spec PATH[:FUNCTION]`: each flow's canonical spec and hashes."""

from __future__ import annotations

from pathlib import Path

from dagy_git import targets as tg
from dagy_git.cli.output import print_json, say
from dagy_git.hashing import canonical_json
from dagy_git.namespace import resolve_namespace
from dagy_git.workspace import open_workspace


def run(targets: list[str], *, namespace: str | None, json_out: bool, cwd: Path) -> int:
    """Print the spec, code_hash, source_file_hash and namespace of each selected flow."""
    ws = open_workspace(cwd)
    items = []
    for t in tg.resolve(ws, targets) if targets else tg.discovered(ws):
        ns = resolve_namespace(namespace, t.file_path, ws.settings, ws.cwd)
        items.append(
            {
                "flow_spec": t.flow.spec.to_json(),
                "code_hash": t.flow.code_hash,
                "source_file_hash": t.flow.source_file_hash,
                "namespace": ns,
                "path": t.rel_path,
            }
        )
    if json_out:
        print_json(items)
        return 0
    for item in items:
        spec = item["flow_spec"]
        say(f"# {spec['name']}@{spec['version']}  ({item['path']})")  # type: ignore[index]
        say(f"namespace:        {item['namespace']!r}")
        say(f"code_hash:        {item['code_hash']}")
        say(f"source_file_hash: {item['source_file_hash']}")
        say(canonical_json(spec))
    return 0
