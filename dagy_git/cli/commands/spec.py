"""`dagy-git spec PATH[:FUNCTION]`: each flow's canonical spec and hashes."""

from __future__ import annotations

from pathlib import Path

from dagy_git import targets as tg
from dagy_git.cli.output import print_json, say
from dagy_git.deploy import target_closure
from dagy_git.hashing import canonical_json
from dagy_git.identity import ClosureFinder, versioned
from dagy_git.namespace import resolve_namespace
from dagy_git.workspace import open_workspace


def run(targets: list[str], *, namespace: str | None, json_out: bool, cwd: Path) -> int:
    """Print the spec, code_hash, source_file_hash and namespace of each selected flow."""
    ws = open_workspace(cwd)
    items = []
    finder = ClosureFinder(ws.root)
    for t in tg.resolve(ws, targets) if targets else tg.discovered(ws):
        ns = resolve_namespace(namespace, t.file_path, ws.settings, ws.cwd)
        spec, chash = versioned(t.flow)
        closure = target_closure(finder, t, t.read_source())
        items.append(
            {
                "flow_spec": spec.to_json(),
                "code_hash": chash,
                "source_file_hash": t.flow.source_file_hash,
                "namespace": ns,
                "path": t.rel_path,
                "closure_hash": closure.hash if closure else None,
            }
        )
    if json_out:
        print_json(items)
        return 0
    for item in items:
        shown = item["flow_spec"]
        say(f"# {shown['name']}@{shown['version']}  ({item['path']})")  # type: ignore[index]
        say(f"namespace:        {item['namespace']!r}")
        say(f"code_hash:        {item['code_hash']}")
        say(f"source_file_hash: {item['source_file_hash']}")
        say(f"closure_hash:     {item['closure_hash']}")
        say(canonical_json(shown))
    return 0
