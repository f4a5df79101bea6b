"""The corpus: realistic flow files (tests/corpus/) build, and their specs are the expected ones.

`tests/corpus/expected.json` gives, per file and flow, the node ids in execution order, the
edges, the subflow and mapped nodes, and whether the spec is approximate (then the analyser
must warn, and otherwise must not). The corpus folder is a repository root of its own, with a
`dagy.toml` declaring `task_modules`. Nothing here imports or runs the corpus.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dagy_git.analysis import FileAnalysis, analyze_file
from dagy_git.config import load_settings

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())


def _analyse(rel: str) -> FileAnalysis:
    return analyze_file(
        CORPUS / rel, repo_root=CORPUS, display_path=rel, settings=load_settings(CORPUS)
    )


def test_the_corpus_is_big_enough() -> None:
    flows = sum(len(v) for v in EXPECTED.values())
    assert len(EXPECTED) >= 60 and flows >= len(EXPECTED)
    # Every flow file of the corpus has expectations (shared modules under common/ have none).
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.py")}
    assert set(EXPECTED) <= on_disk
    assert {p for p in on_disk if not p.startswith("common/")} == set(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_corpus_file_builds_as_expected(rel: str) -> None:
    result = _analyse(rel)
    assert result.problems == [], [str(p) for p in result.problems]
    got = {flow.spec.name: flow for flow in result.flows}
    assert sorted(got) == sorted(EXPECTED[rel]), rel
    for name, want in EXPECTED[rel].items():
        flow = got[name]
        spec = flow.spec
        assert [t.id for t in spec.tasks] == want["tasks"], name
        assert [list(e) for e in spec.edges] == want["edges"], name
        assert [t.id for t in spec.tasks if t.kind == "flow"] == want.get("subflows", []), name
        assert [t.id for t in spec.tasks if t.mapped] == want.get("mapped", []), name
        warned = [str(w) for w in flow.warnings]
        if want.get("approximate"):
            assert warned, f"{name}: an approximate spec must carry a warning"
        else:
            assert warned == [], name


def test_corpus_files_without_flows_have_no_errors() -> None:
    for path in sorted((CORPUS / "common").rglob("*.py")):
        rel = path.relative_to(CORPUS).as_posix()
        assert _analyse(rel).problems == [], rel
