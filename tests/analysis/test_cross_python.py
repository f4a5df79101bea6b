"""The FlowSpec, its code_hash and what is accepted are the same on every supported Python.

The hook, CI and a developer's machine may run different Pythons (3.10-3.13); a spec that
depended on the version would redeploy unchanged flows, or fail CI for a flow the hook
accepted. The corpus below holds what differs between versions where it can: parameter
defaults and annotations whose `ast.unparse` text changed (f-strings in 3.12, `lambda :` in
3.10, which characters `repr` escapes as Unicode grows), and standard-library modules and
built-ins that exist in some versions only. Each Python 3.10/3.12/3.13 installed with pyenv
(or named in DAGY_GIT_TEST_PYTHONS, `os.pathsep`-separated) analyses it in a subprocess,
and the result must equal this process's. The analyser needs pydantic: an interpreter
without it is skipped, with the reason.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import dagy_git

# Parsed by every supported version: no 3.12-only f-string syntax (`f"{'\n'}"`, reused quotes).
CORPUS = '''\
import distutils.util
import telnetlib
import tomllib
from imp import reload
from typing import Literal, Optional
import typing as t

from dagy import flow, task


@task
def work(*args: object, **kwargs: object) -> object:
    ...


@task
def use(*args: object) -> object:
    ...


@flow(name="corpus", version="1")
def corpus(
    fstr: str = f"{'x'}-{1!r:>{4}}",
    fquote=f'{"q"}',
    fnest=f"{f'{1}'}" if 0 else f"a{{b}}",
    fspec=f"{1:{2}.{3}}{x!s:{y}}{z=}",
    lam=lambda y, *z, k=1, **kw: y + 1,
    lam0=lambda: 1,
    union: None | int = None,
    generic: dict[str, list[int]] = {"a": [1, 2]},
    neg: int = -1,
    under=1_000,
    hexa=0x1F,
    octal=0o17,
    sci=1e3,
    sci2=1E-3,
    implicit="a" "b",
    implicit_lines=("one"
                    "two"),
    tup=(1, 2),
    single=(1,),
    empty=(),
    bare_tuple: tuple[int, ...] = ...,
    escapes="tab\\t\\u00e9\\\\ \\N{BULLET} 'q' \\"dq\\"",
    unicode="ünï 日本 \U0001fae0 \U0001fae8 \U0002ebf0",
    starred=[*range(3), *[4]],
    cond=1 if True else 2,
    walrus=(w := 5),
    calls=max(min(1, 2), abs(-3), key=None),
    lit: Literal["a"] = "a",
    raw_bytes=b"bytes\\x00'\\"",
    raw=r"raw\\d+",
    rawb=Rb"rawbytes",
    fwd: Optional[t.Dict[str, "Fwd"]] = None,
    power=-1 ** 2,
    power2=(-1) ** 2,
    parens=((1)),
    comment=(  # a comment inside the default
        1,
        2 ),
    comp=[x for x in range(3) if x],
    gen=(x for x in ()),
    dict_unpack={**{}, "k": 1},
    chained=1 < 2 < 3,
    notted=not (True and False or None),
    called=(lambda: 3)(),
    mixed=f"{1}" f"{2}" "3",
    triple="""tri
ple""",
):
    data = tomllib.loads(fstr)
    parts = distutils.util.split_quoted(fquote)
    errors = ExceptionGroup("e", [PythonFinalizationError()])
    rows = work(data, parts, errors, telnetlib.Telnet, reload, aiter, anext)
    alias = rows
    alias.append(work(1))
    inner = rows[0]
    inner["k"] = work(2)
    for row in rows:
        row["score"] = work(row)
    match rows:
        case [first, *_]:
            first.update(work(3))
    acc = []
    [acc.append(work(r)) for r in rows]
    use(rows, acc)
'''

# Pinned so that a CI job on any supported Python checks the same value, pyenv or not. It
# changes with the corpus text (that is the source_file_hash) and with the analyser's output.
CORPUS_CODE_HASH = "4d10db8634d518cac615904d936be681ec4884dcf8b1392582bdc0520ce63481"

# Exec'd here and run with `python -c` in the other interpreters, so both do the same.
SUMMARY = """
import json, sys

def summary(source):
    from dagy_git.analysis import pynames as _pynames
    from dagy_git.analysis import analyze_source

    result = analyze_source(source.encode("utf-8"), "corpus.py")
    return {
        "flows": [
            {"flow_spec": f.spec.to_json(), "code_hash": f.code_hash} for f in result.flows
        ],
        "problems": [str(p) for p in result.problems],
        "stdlib": sorted(_pynames.STDLIB),
        "builtins": sorted(_pynames.BUILTINS),
    }

if __name__ == "__main__":
    version = "%d.%d" % sys.version_info[:2]
    try:
        import pydantic  # noqa: F401
    except ImportError:
        print(json.dumps({"python": version, "skip": "pydantic is not importable"}))
    else:
        print(json.dumps({"python": version, **summary(sys.stdin.read())}, sort_keys=True))
"""

VERSIONS = ["3.10", "3.12", "3.13"]


@functools.cache
def _here() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "summary"}
    exec(SUMMARY, namespace)
    return namespace["summary"](CORPUS)  # type: ignore[no-any-return]


def _candidates(version: str) -> list[Path]:
    """Interpreters of `version`: those named in DAGY_GIT_TEST_PYTHONS first, then pyenv's."""
    named = [Path(p) for p in os.environ.get("DAGY_GIT_TEST_PYTHONS", "").split(os.pathsep) if p]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = [p for p in sorted(pyenv.glob(f"{version}.*/bin/python")) if p.is_file()]
    return [*named, *found]


# Read before the session fixture points HOME at a temporary folder.
CANDIDATES = {version: _candidates(version) for version in VERSIONS}


def _run(python: Path) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(dagy_git.__file__).resolve().parent.parent),
        "PYTHONDONTWRITEBYTECODE": "1",  # leave no __pycache__ of other versions in the repo
        "PYTHONIOENCODING": "utf-8",
    }
    done = subprocess.run(
        [str(python), "-c", SUMMARY],
        input=CORPUS,
        capture_output=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_corpus_analyses_cleanly_here_with_the_pinned_hash() -> None:
    here = _here()
    assert here["problems"] == []
    (flow,) = here["flows"]
    params = {p["name"]: p for p in flow["flow_spec"]["parameters"]}
    # As written, not as this Python's `ast.unparse` would print them.
    assert params["fquote"]["default"] == "f'{\"q\"}'"
    assert params["lam0"]["default"] == "lambda: 1"
    assert (
        params["comment"]["default"] == "(  # a comment inside the default\n        1,\n        2 )"
    )
    # Mutations through names that share an object reach `use` (rows, alias, row, first…).
    edges = set(map(tuple, flow["flow_spec"]["edges"]))
    assert {("work#2", "use"), ("work#3", "use"), ("work#4", "use"), ("work#5", "use")} <= edges
    assert flow["code_hash"] == CORPUS_CODE_HASH, sys.version


@pytest.mark.parametrize("version", VERSIONS)
def test_other_pythons_compute_the_same_spec_and_accept_the_same_names(version: str) -> None:
    reasons: list[str] = []
    for python in CANDIDATES[version]:
        if not python.is_file():
            reasons.append(f"{python} does not exist")
            continue
        result = _run(python)
        if result.pop("python") != version:
            continue  # a DAGY_GIT_TEST_PYTHONS entry of another version
        if "skip" in result:
            reasons.append(f"{python}: {result['skip']}")
            continue
        assert result == _here()
        return
    pytest.skip(
        f"no Python {version} that can run the analyser "
        f"({'; '.join(reasons) or 'none under ~/.pyenv/versions'}); "
        "name one in DAGY_GIT_TEST_PYTHONS"
    )
