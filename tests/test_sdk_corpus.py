"""The corpus's real-world-style flow files, imported and run on this SDK through the shim.

The analyser reads tests/corpus statically; here the SDK runs it, the way issue 11's runner
will: `install_dagy_shim()` stands in for Dagy, so every decorator keyword those files use
must be accepted and every flow must get the name the analyser gives it. Libraries the
files import that are not installed here (pandas, requests, boto3, …) are stand-ins that
accept anything: importing a file runs its decorators, not its flows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, write

CORPUS = ROOT / "tests" / "corpus"

IMPORTER = '''
import ast, importlib, importlib.abc, importlib.machinery, importlib.util, json, sys, types
from pathlib import Path

corpus = Path(sys.argv[1])
sys.path.insert(0, str(corpus))
import dagy_git
from dagy_git import Flow

dagy_git.install_dagy_shim()


class Anything:
    """Any object of a library that is not installed."""

    def __init__(self, *a, **k): pass
    def __getattr__(self, name): return Anything()
    def __call__(self, *a, **k): return Anything()
    def __iter__(self): return iter(())
    def __getitem__(self, key): return Anything()
    def __mro_entries__(self, bases): return (object,)
    def __or__(self, other): return Anything()
    __ror__ = __or__


class StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Anything()


class Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, tops): self.tops = tops
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.tops:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
    def create_module(self, spec):
        module = StubModule(spec.name)
        module.__path__ = []
        return module
    def exec_module(self, module): pass


files = sorted(corpus.rglob("*.py"))
tops = set()
for path in files:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            tops |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
missing = {t for t in tops if t != "dagy" and importlib.util.find_spec(t) is None}
sys.meta_path.append(Stubs(missing))
found = {}
for path in files:
    rel = path.relative_to(corpus).as_posix()
    name = rel[:-3].replace("/", ".").removesuffix(".__init__")
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        found[rel] = f"{type(exc).__name__}: {exc}"
        continue
    flows = [v for v in vars(module).values() if isinstance(v, Flow) and v.fn.__module__ == name]
    found[rel] = sorted(f.name for f in flows)
print(json.dumps({"stubbed": sorted(missing), "flows": found}))
'''


def python(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # No bytecode: nothing may be written into tests/corpus.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_every_corpus_file_imports_and_names_its_flows_as_the_analyser_does(
    tmp_path: Path,
) -> None:
    proc = python(write(tmp_path, "importer.py", IMPORTER), str(CORPUS), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert "pandas" in result["stubbed"] and "dagy" not in result["stubbed"]
    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    found = result["flows"]
    assert len(found) >= 60
    errors = {rel: got for rel, got in found.items() if isinstance(got, str)}
    assert errors == {}
    assert {rel: names for rel, names in found.items() if names} == {
        rel: sorted(flows) for rel, flows in expected.items()
    }


RUNNER = """
import json, sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import dagy_git

dagy_git.install_dagy_shim()
from mapped.word_count import word_count
from misc.verify_copy import verify_copy

data = Path(sys.argv[2])
top = word_count(pattern=str(data / "*.txt"), n_chunks=3)
same = verify_copy(str(data / "a.txt"), str(data / "copy.txt"))
try:  # a mismatch fails the flow with the task's own error
    verify_copy(str(data / "a.txt"), str(data / "b.txt"), algorithm="md5")
except ValueError as exc:
    different = str(exc).split(":")[0]
print(json.dumps({"top": top[:2], "same": same, "different": different}))
"""


def test_corpus_flows_without_third_party_libraries_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data, "a.txt", "the quick fox\nthe lazy dog\n")
    write(data, "b.txt", "The fox, the dog and THE cat\n")
    write(data, "c.txt", "a fox\n")
    write(data, "copy.txt", (data / "a.txt").read_text())
    proc = python(write(tmp_path, "runner.py", RUNNER), str(CORPUS), str(data), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == {
        "top": [["the", 7], ["fox", 4]],
        "same": True,
        "different": "checksum mismatch",
    }
    # word_count prints its table with log_prints=True: the lines go to the run logger
    # (stderr, by the default handler), and stdout holds only the runner's JSON.
    assert "Flow run 'word-count-1' -                  the 7" in proc.stderr
    assert len(proc.stdout.splitlines()) == 1
