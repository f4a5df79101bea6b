"""`dagy-git build [PATH...]`: reproducible artifacts in `dist/`."""

from __future__ import annotations

import hashlib
from pathlib import Path

from dagy_git import targets as tg
from dagy_git.artifact import artifact_name, build_artifact
from dagy_git.cli.output import note, print_json, say
from dagy_git.deploy import DeployOptions, identity, target_closure
from dagy_git.errors import DagyError
from dagy_git.identity import ClosureFinder
from dagy_git.workspace import open_workspace


def run(targets: list[str], *, out: Path, namespace: str | None, json_out: bool, cwd: Path) -> int:
    """Write one zip per flow and print where (and its SHA-256)."""
    ws = open_workspace(cwd)
    chosen = tg.resolve(ws, targets) if targets else tg.resolve_all(ws)
    built: dict[str, dict[str, str]] = {}
    payloads: dict[Path, bytes] = {}
    out_dir = out if out.is_absolute() else ws.cwd / out
    opts = DeployOptions(namespace=namespace)
    finder = ClosureFinder(ws.root)
    for t in chosen:
        spec, chash, ns = identity(ws, t, opts)
        path = out_dir / artifact_name(spec)
        if path not in payloads:
            source = t.read_source()
            closure = target_closure(finder, t, source)
            payloads[path] = build_artifact(t.flow, t.rel_path, source, spec, chash, ns, closure)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for path, data in payloads.items():
            path.write_bytes(data)
            built[str(path)] = {"path": str(path), "sha256": hashlib.sha256(data).hexdigest()}
    except OSError as exc:
        raise DagyError(f"cannot write artifacts to {out_dir}: {exc.strerror or exc}") from None
    if json_out:
        print_json(list(built.values()))
    else:
        for item in built.values():
            say(f"{item['path']}  sha256:{item['sha256'][:16]}")
        note(f"built {len(built)} artifact{'' if len(built) == 1 else 's'}")
    return 0
