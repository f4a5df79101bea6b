"""The static analyser: Python source → FlowSpecs, with file:line:col errors.

No test here imports or runs the flow code it analyses: the analyser must not either.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagy_git.analysis import (
    FileAnalysis,
    analyze_file,
    analyze_source,
    build_flows,
    mentions_dagy,
)
from dagy_git.errors import SpecError

from conftest import ORDER_ETL, write

# Tasks a, b, c accept anything, so flow bodies below can call them freely.
HEADER = """\
from dagy import flow, task

@task
def a(*args, **kwargs): ...

@task
def b(*args, **kwargs): ...

@task
def c(*args, **kwargs): ...

"""
HEADER_LINES = HEADER.count("\n")


def analyze(src: str, **kwargs: object) -> FileAnalysis:
    """Analyse dedented source as `flow.py`."""
    text = textwrap.dedent(src).lstrip("\n")
    return analyze_source(text.encode(), "flow.py", **kwargs)  # type: ignore[arg-type]


def flow_graph(body: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Task ids and edges of a one-flow file whose flow body is `body`."""
    src = HEADER + "@flow\ndef f(src, n=3):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    result = analyze_source(src.encode(), "flow.py")
    assert result.problems == [], [str(p) for p in result.problems]
    (flow,) = result.flows
    return [t.id for t in flow.spec.tasks], flow.spec.edges


def problems(src: str, **kwargs: object) -> list[tuple[int | None, int | None, str]]:
    """(line, col, message) of every problem of dedented source."""
    return [(p.line, p.col, p.message) for p in analyze(src, **kwargs).problems]


def assert_problem(src: str, line: int, col: int, text: str, **kwargs: object) -> None:
    found = problems(src, **kwargs)
    assert any(pl == line and pc == col and text in msg for pl, pc, msg in found), found


# -- the spec's example ------------------------------------------------------------------------
def test_order_etl_spec() -> None:
    result = analyze_source(ORDER_ETL.encode(), "flows/order.py")
    assert result.problems == []
    (flow,) = result.flows
    spec = flow.spec
    assert (spec.name, spec.version, spec.function) == ("order_etl", "2.1.0", "order_etl")
    assert [t.id for t in spec.tasks] == ["extract", "transform", "load"]
    assert all(t.module is None for t in spec.tasks)
    assert spec.edges == [("extract", "transform"), ("transform", "load")]
    (param,) = spec.parameters
    assert (param.name, param.annotation, param.default, param.required) == (
        "source",
        "str",
        '"s3://data/orders/"',
        False,
    )
    assert flow.path == "flows/order.py"
    assert (
        flow.line
        == ORDER_ETL.lstrip("\n")
        .splitlines()
        .index('def order_etl(source: str = "s3://data/orders/"):')
        + 2
    )  # +1 for 1-based lines, +1 for the leading newline of ORDER_ETL


IMPORT_STYLES = [
    ("from dagy import flow, task", "@task", "@flow(name='order_etl', version='2.1.0')"),
    ("from dagy_git import flow, task", "@task", "@flow(name='order_etl', version='2.1.0')"),
    ("from dagy import flow as F, task as T", "@T", "@F(name='order_etl', version='2.1.0')"),
    ("import dagy", "@dagy.task", "@dagy.flow(name='order_etl', version='2.1.0')"),
    ("import dagy_git", "@dagy_git.task()", "@dagy_git.flow(name='order_etl', version='2.1.0')"),
    ("import dagy as d", "@d.task", "@d.flow(name='order_etl', version='2.1.0')"),
]


@pytest.mark.parametrize(("imports", "task_deco", "flow_deco"), IMPORT_STYLES)
def test_import_styles_give_the_same_spec(imports: str, task_deco: str, flow_deco: str) -> None:
    src = (
        ORDER_ETL.replace("from dagy import flow, task", imports)
        .replace("@task", task_deco)
        .replace('@flow(name="order_etl", version="2.1.0")', flow_deco)
    )
    (flow,) = build_flows_from(src)
    (reference,) = build_flows_from(ORDER_ETL)
    assert flow.spec == reference.spec


def build_flows_from(src: str) -> list:  # type: ignore[type-arg]
    result = analyze_source(src.encode(), "flow.py")
    assert result.problems == [], [str(p) for p in result.problems]
    return result.flows


def test_decorator_from_another_library_is_not_a_flow() -> None:
    result = analyze("""
        from prefect import flow

        @flow
        def f():
            pass
    """)
    assert result.flows == [] and result.problems == []


# -- decorator options -----------------------------------------------------------------------
def test_options_defaults_and_values() -> None:
    result = analyze('''
        from dagy import flow, task

        RETRIES = 3
        DELAY: float = 1.5
        TEAM_VERSION = "1.0.0"

        @task(name="pull", retries=RETRIES, retry_delay_seconds=DELAY, timeout_seconds=30,
              description="pull rows")
        def extract(src): ...

        @task()
        def load(rows):
            """A docstring is not the description."""

        @flow(version=TEAM_VERSION, description="nightly", retries=1, retry_delay_seconds=2,
              timeout_seconds=600.5)
        def nightly():
            """Neither here."""
            load(extract("x"))
    ''')
    assert result.problems == []
    (flow,) = result.flows
    spec = flow.spec
    assert (spec.name, spec.version, spec.description) == ("nightly", "1.0.0", "nightly")
    assert (spec.retries, spec.retry_delay_seconds, spec.timeout_seconds) == (1, 2.0, 600.5)
    pull, load = spec.tasks
    assert (pull.id, pull.name, pull.function, pull.description) == (
        "pull",
        "pull",
        "extract",
        "pull rows",
    )
    assert (pull.retries, pull.retry_delay_seconds, pull.timeout_seconds) == (3, 1.5, 30.0)
    assert isinstance(pull.timeout_seconds, float)
    assert (load.name, load.description, load.retries, load.timeout_seconds) == (
        "load",
        None,
        0,
        None,
    )
    assert spec.edges == [("pull", "load")]


def test_flow_defaults() -> None:
    (flow,) = build_flows_from(
        "from dagy import flow\n\n@flow\ndef my_flow(a, b: int = 2, *, c: 'list[str]'):\n  pass\n"
    )
    spec = flow.spec
    assert (spec.name, spec.version, spec.description, spec.tasks, spec.edges) == (
        "my_flow",
        "latest",
        None,
        [],
        [],
    )
    assert [(p.name, p.annotation, p.default, p.required) for p in spec.parameters] == [
        ("a", None, None, True),
        ("b", "int", "2", False),
        ("c", "'list[str]'", None, True),
    ]


OPTION_ERRORS = [
    # (decorator line, col of the culprit, message substring)
    ("@task(retries=True)", 15, "retries must be a whole number"),
    ("@task(retries=-1)", 15, "retries must be a whole number"),
    ("@task(retries=1.5)", 15, "retries must be a whole number"),
    ('@task(timeout_seconds="5")', 23, "timeout_seconds must be a number of seconds"),
    ("@task(timeout_seconds=1e999)", 23, "timeout_seconds must be a number of seconds"),
    ("@task(retry_delay_seconds=-0.5)", 27, "retry_delay_seconds must be a number"),
    ('@task(name="a@b")', 12, "cannot contain '@'"),
    ('@task(name="  ")', 12, "must not be empty or only whitespace"),
    ('@task(name="\\ud800")', 12, "lone surrogate"),
    ('@task(description="\\udfff")', 19, "lone surrogate"),
    ("@task(timeout_seconds=1" + "0" * 400 + ")", 23, "timeout_seconds is too large"),
    ("@task(retry_delay_seconds=[1, -2])", 27, "retry_delay_seconds must be a number"),
    ("@task(retry_delay_seconds=[])", 27, "a list of 1 to 1000 numbers"),
    ('@task(retry_delay_seconds=[1, "x"])', 27, "retry_delay_seconds must be a number"),
    ('@flow(version="")', 15, "version must not be empty"),
    ("@flow(version=2)", 15, "version must be a string"),
    ('@flow(name="a\\tb")', 12, "contains a control character"),
    ("@flow(retries=3.0)", 15, "retries must be a whole number"),
    ("@flow(description=3)", 19, "description must be a string"),
]


@pytest.mark.parametrize(("decorator", "col", "message"), OPTION_ERRORS)
def test_option_errors(decorator: str, col: int, message: str) -> None:
    src = (
        "from dagy import flow, task\nTWICE = 1\n"
        f"{decorator}\ndef thing(): ...\nTWICE = 2\nLATER = 1\n"
    )
    result = analyze_source(src.encode(), "flow.py")
    found = [(p.line, p.col, p.message) for p in result.problems]
    assert any(line == 3 and c == col and message in msg for line, c, msg in found), found
    assert result.flows == []


OPTION_WARNINGS = [
    # (decorator line, col, message substring): kept as written, the spec is approximate
    ("@task(retries=compute())", 15, "option retries: the value is computed"),
    ("@task(retries=UNKNOWN)", 15, "option retries: the value is computed"),
    ("@task(retries=TWICE)", 15, "option retries: the value is computed"),
    ("@task(retries=LATER)", 15, "option retries: the value is computed"),
    ('@task("extract")', 7, "positional argument kept as written"),
    ("@task(**OPTS)", 7, "kept as written"),
    ("@flow(version=os.environ['V'])", 15, "option version: the value is computed"),
]


@pytest.mark.parametrize(("decorator", "col", "message"), OPTION_WARNINGS)
def test_computed_options_are_kept_as_written_with_a_warning(
    decorator: str, col: int, message: str
) -> None:
    src = (
        "import os\nfrom dagy import flow, task\nTWICE = 1\n"
        f"{decorator}\ndef thing(): ...\nTWICE = 2\nLATER = 1\n"
        "@flow\ndef f():\n    thing()\n"
    )
    result = analyze_source(src.encode(), "flow.py")
    assert result.problems == []
    found = [(w.line, w.col, w.message, w.level) for w in result.warnings]
    assert any(ln == 4 and c == col and message in m and lv == "warning" for ln, c, m, lv in found)
    # The flow builds; the text as written is in its spec, so an edit changes the hash.
    assert result.flows
    specs = [f.spec for f in result.flows]
    written = [t.options for s in specs for t in s.tasks] + [s.flow_options for s in specs]
    assert any(written), written


def test_other_options_are_kept_as_source_text() -> None:
    (flow,) = build_flows_from(
        "from dagy import flow, task\nfrom dagy.tasks import task_input_hash\n"
        "@task(tags=['etl',  'x'], cache_key_fn=task_input_hash, retry_delay_seconds=[1, 2.5])\n"
        "def t(): ...\n"
        "@flow(name='My ETL Flow', log_prints=True, flow_run_name=f'run-{1}', retries=2 * 3)\n"
        "def f():\n    t()\n"
    )
    spec = flow.spec
    assert (spec.name, spec.retries, spec.flow_options) == (
        "My ETL Flow",
        6,
        {"log_prints": "True", "flow_run_name": "f'run-{1}'"},
    )
    (task,) = spec.tasks
    assert task.options == {"tags": "['etl',  'x']", "cache_key_fn": "task_input_hash"}
    assert task.retry_delay_seconds == [1.0, 2.5]
    assert flow.warnings == []


def test_long_default_names_are_refused() -> None:
    long = "f" * 129
    assert_problem(f"from dagy import task\n\n@task\ndef {long}(): ...\n", 4, 1, "task name")
    assert_problem(f"from dagy import flow\n\n@flow\ndef {long}(): ...\n", 4, 1, "flow name")
    # …and a valid name= fixes it; names may hold spaces, capitals, any printable character.
    assert problems(f"from dagy import flow\n\n@flow(name='Ok Ünï ✓')\ndef {long}(): ...\n") == []


# -- flow bodies: nodes and edges ------------------------------------------------------------
BODIES = [
    ("return c(b(a(src)))", ["a", "b", "c"], [("a", "b"), ("b", "c")]),
    ("x = a(src)\ny = b(x)\nc(y)", ["a", "b", "c"], [("a", "b"), ("b", "c")]),
    ("x: list = a(src)\nb(x)", ["a", "b"], [("a", "b")]),
    ("p, q = a(src)\nb(p)\nc(q)", ["a", "b", "c"], [("a", "b"), ("a", "c")]),
    ("p, q = a(), b()\nc(q)", ["a", "b", "c"], [("b", "c")]),
    ("[p, *rest] = a()\nb(rest)", ["a", "b"], [("a", "b")]),
    ("x = a()\nx += b()\nc(x)", ["a", "b", "c"], [("a", "c"), ("b", "c")]),
    ("x = a()\nb(src, rows=x)", ["a", "b"], [("a", "b")]),
    ("x = a()\ny = b()\nc(1, wait_for=[x, y])", ["a", "b", "c"], [("a", "c"), ("b", "c")]),
    ("x = a()\nb(wait_for=[x])\nc(x)", ["a", "b", "c"], [("a", "b"), ("a", "c")]),
    ("a()\na()\nb(a())", ["a", "a#2", "a#3", "b"], [("a#3", "b")]),
    ("a(a(1))", ["a", "a#2"], [("a", "a#2")]),
    ("x = a()\nx = b()\nc(x)", ["a", "b", "c"], [("b", "c")]),
    ("n = len('abc')\nb(n)\nprint(src)", ["b"], []),
    ("print(src)", [], []),
    ("x = a()\ny = x.split(',')\nb(y)", ["a", "b"], [("a", "b")]),
    ("x = a()\nd = {}\nd['k'] = x\nb(d)", ["a", "b"], [("a", "b")]),
    ("x = a()\nr = {}\nr.update(x)\nb(r)", ["a", "b"], [("a", "b")]),
    ("x = a()\no = object()\no.field = x\nb(o)", ["a", "b"], [("a", "b")]),
    ("if src:\n    x = a()\nelse:\n    x = b()\nc(x)", ["a", "b", "c"], [("a", "c"), ("b", "c")]),
    ("x = a()\nif src:\n    x = b()\nc(x)", ["a", "b", "c"], [("a", "c"), ("b", "c")]),
    ("x = a()\nif src:\n    x = b()\nelse:\n    x = 1\nc(x)", ["a", "b", "c"], [("b", "c")]),
    ("for s in src:\n    a(s)", ["a"], []),
    ("items = a()\nfor i in items:\n    b(i)", ["a", "b"], [("a", "b")]),
    ("acc = []\nfor s in src:\n    acc.append(a(s))\nb(acc)", ["a", "b"], [("a", "b")]),
    ("x = a()\nwhile n:\n    y = b(x)\nc(y)", ["a", "b", "c"], [("a", "b"), ("b", "c")]),
    ("with open(src) as fh:\n    x = a(fh)\nb(x)", ["a", "b"], [("a", "b")]),
    ("with a() as r:\n    b(r)", ["a", "b"], [("a", "b")]),
    (
        "try:\n    x = a()\nexcept ValueError:\n    x = b()\nfinally:\n    pass\nc(x)",
        ["a", "b", "c"],
        [("a", "c"), ("b", "c")],
    ),
    ("xs = [a(s) for s in src]\nb(xs)", ["a", "b"], [("a", "b")]),
    ("rows = a()\nb({r: 1 for r in rows})", ["a", "b"], [("a", "b")]),
    ("if (x := a()):\n    b(x)", ["a", "b"], [("a", "b")]),
    (
        "match src:\n    case 'x':\n        y = a()\n    case _:\n        y = b()\nc(y)",
        ["a", "b", "c"],
        [("a", "c"), ("b", "c")],
    ),
    ("x = a()\nmatch x:\n    case [first, *_]:\n        b(first)", ["a", "b"], [("a", "b")]),
    ("import json\nx = a()\nb(json.dumps(x))", ["a", "b"], [("a", "b")]),
    ("x = a()\nb(sorted(x, key=lambda r: r.id))", ["a", "b"], [("a", "b")]),
    # A task called inside an assignment target is a node too, in Python's order (the value
    # first), and what it returns decides what the filled object holds.
    ("d = {}\nd[a()]['k'] = b()\nc(d)", ["b", "a", "c"], [("a", "c"), ("b", "c")]),
    ("d = {}\nfor d[a()] in src:\n    pass\nc(d)", ["a", "c"], [("a", "c")]),
    # Names only read by a target or pattern stay what they are (here: tasks).
    ("match src:\n    case a.name:\n        pass\nb(a(src))", ["a", "b"], [("a", "b")]),
]


@pytest.mark.parametrize(("body", "ids", "edges"), BODIES)
def test_flow_body_graph(body: str, ids: list[str], edges: list[tuple[str, str]]) -> None:
    assert flow_graph(body) == (ids, edges)


# A mutation through any name that may share the object (an alias, an item or attribute of
# it, a loop variable over it, a container holding it) reaches every such name.
SHARED = [
    ("lst = []\nalias = lst\nalias.append(a())\nb(lst)", [("a", "b")]),
    ("d = {'x': []}\ninner = d['x']\ninner.append(a())\nb(d)", [("a", "b")]),
    ("lst = []\nalias = lst\nlst.append(a())\nb(alias)", [("a", "b")]),
    ("lst = []\nx = lst\ny = x\ny.append(a())\nb(lst)", [("a", "b")]),
    ("o = object()\ninner = o.items\ninner.append(a())\nb(o)", [("a", "b")]),
    ("d = {}\nalias = d\nalias['k'] = a()\nb(d)", [("a", "b")]),
    ("d = {}\nalias = d\nalias.x.y = a()\nb(d)", [("a", "b")]),
    ("lst = []\nalias = lst\nalias += [a()]\nb(lst)", [("a", "b")]),
    ("d = {'k': []}\ninner = d.get('k')\ninner.append(a())\nb(d)", [("a", "b")]),
    ("d = {'x': []}\nd['x'].append(a())\nb(d)", [("a", "b")]),
    ("d = {}\nd.setdefault('x', []).append(a())\nb(d)", [("a", "b")]),
    ("d = {'x': {}}\nalias = d\nalias = alias['x']\nalias['k'] = a()\nb(d)", [("a", "b")]),
    (
        "rows = a()\nfor r in rows:\n    r['s'] = c(r)\nb(rows)",
        [("a", "b"), ("a", "c"), ("c", "b")],
    ),
    ("for i, r in enumerate(src):\n    r['s'] = a(r)\nb(src)", [("a", "b")]),
    ("lst = []\nholder = [lst]\nholder[0].append(a())\nb(lst)", [("a", "b")]),
    ("lst = []\nh = []\nh.append(lst)\nh[0].append(a())\nb(lst)", [("a", "b")]),
    ("lst = []\nh = {'k': lst}\nh['k'].append(a())\nb(lst)", [("a", "b")]),
    ("match src:\n    case [first, *_]:\n        first['s'] = a()\nb(src)", [("a", "b")]),
    ("with src as s:\n    s.append(a())\nb(src)", [("a", "b")]),
    ("acc = []\n[acc.append(a(s)) for s in src]\nb(acc)", [("a", "b")]),
    ("[y := a(s) for s in src]\nb(y)", [("a", "b")]),
    (
        "lst = []\nif n:\n    alias = lst\nelse:\n    alias = []\nalias.append(a())\nb(lst)",
        [("a", "b")],
    ),
    (
        "lst = []\nalias = []\nfor s in src:\n    alias.append(a(s))\n    alias = lst\nb(lst)",
        [("a", "b")],
    ),
    # …and only those: a rebound name, a task's result, a new value share nothing.
    ("lst = []\nalias = lst\nalias = []\nalias.append(a())\nb(lst)", []),
    ("x = src\ny = a(x)\ny.append(b())\nc(x)", []),
    ("lst = []\ntext = f'{lst}'\ntext.join(a())\nb(lst)", []),
    ("for r in src:\n    pass\nother = []\nfor r in other:\n    r.append(a())\nb(src)", []),
    # A branch that rebinds inside `try` leaves the other branch the value from before.
    (
        "x = a()\nif n:\n    try:\n        x = b()\n    except ValueError:\n        pass\n"
        "else:\n    c(x)",
        [("a", "c")],
    ),
]


@pytest.mark.parametrize(("body", "edges"), SHARED)
def test_mutations_reach_every_name_that_shares_the_object(
    body: str, edges: list[tuple[str, str]]
) -> None:
    assert flow_graph(body)[1] == edges


EXPRESSIONS = [
    "x[0]",
    'f"{x}"',
    "[x, 1]",
    "(1, x)",
    "{'k': x}",
    "{x}",
    "x.attr",
    "len(x)",
    "str(x).upper()",
    "x if n else 1",
    "x + 1",
    "not x",
    "x == 1",
    "x or n",
    "*x",
    "**x",
    "[y for y in x]",
    "x[1:n]",
    "sum(v for v in x)",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_results_flow_through_expressions(expression: str) -> None:
    assert flow_graph(f"x = a()\nb({expression})") == (["a", "b"], [("a", "b")])


def test_tasks_are_listed_in_call_order_and_edges_sorted() -> None:
    ids, edges = flow_graph("z = c()\ny = b(z)\nx = a(y, z)")
    assert ids == ["c", "b", "a"]
    assert edges == [("b", "a"), ("c", "a"), ("c", "b")]


def test_task_names_give_ids() -> None:
    (flow,) = build_flows_from(
        "from dagy import flow, task\n@task(name='pull')\ndef extract(): ...\n"
        "@flow\ndef f():\n    extract()\n    extract()\n"
    )
    assert [(t.id, t.name, t.function) for t in flow.spec.tasks] == [
        ("pull", "pull", "extract"),
        ("pull#2", "pull", "extract"),
    ]


# -- flow bodies: every calling form, helpers, subflows ----------------------------------------
FLOW_FORMS = [
    # (body, node ids, edges, a warning it must give or None)
    ("x = a.submit(src)\nb(x.result())", ["a", "b"], [("a", "b")], None),
    ("x = a.submit(src)\nx.wait()\nb(wait_for=[x])", ["a", "b"], [("a", "b")], None),
    (
        "fs = [a.submit(s) for s in src]\nb([f.result() for f in fs])",
        ["a", "b"],
        [("a", "b")],
        None,
    ),
    ("x = a.map(src, unmapped(m))\nb(x)", ["a", "b"], [("a", "b")], None),
    ("x = a.with_options(retries=2)(src)\nb(x)", ["a", "b"], [("a", "b")], None),
    ("x = a.with_options(retries=2).submit(src)\nb(x)", ["a", "b"], [("a", "b")], None),
    (
        "fast = a.with_options(name='quick')\nfast(src)\nfast.submit(src)",
        ["quick", "quick#2"],
        [],
        None,
    ),
    ("g = a\nb(g(src))", ["a", "b"], [("a", "b")], None),
    ("x = a.fn(src)\nb(x)", ["b"], [], None),
    ("x = sub(src)\nb(x)", ["sub", "b"], [("sub", "b")], None),
    ("y = helper(a(src))\nb(y)", ["a", "b"], [("a", "b")], None),
    ("y = calls_tasks(src)\nc(y)", ["a", "b", "c"], [("a", "b"), ("b", "c")], None),
    (
        "calls_tasks(1)\ncalls_tasks(2)",
        ["a", "b", "a#2", "b#2"],
        [("a", "b"), ("a#2", "b#2")],
        None,
    ),
    ("def inner(v):\n    return a(v)\nb(inner(src))", ["a", "b"], [("a", "b")], None),
    (
        "x = a()\ndef inner():\n    return b(x)\nc(inner())",
        ["a", "b", "c"],
        [("a", "b"), ("b", "c")],
        None,
    ),
    ("acc = []\nfill(acc, src)\nc(acc)", ["a", "c"], [("a", "c")], None),
    ("x = a()\nb(*[(lambda v: c(v))(x)])", ["a", "c", "b"], [("a", "c"), ("c", "b")], None),
    ("import pandas as pd\ndf = pd.read_csv(a())\nb(df.dropna())", ["a", "b"], [("a", "b")], None),
    ("print(a())\nCONFIG.get('k')", ["a"], [], None),
    ("b(a(src), wait_for=[c()])", ["a", "c", "b"], [("a", "b"), ("c", "b")], None),
    ("getattr(m, 'a')(src)", [], [], "the called function is computed"),
    ("[a, b][0](src)", [], [], "the called function is computed"),
    ("list(map(a, src))", ["a"], [], "task 'a' is passed as a value"),
    ("x = nowhere(a())\nb(x)", ["a", "b"], [("a", "b")], "cannot resolve 'nowhere'"),
    ("tasks = [a, b]", [], [], "task 'a' is used as a value"),
]


@pytest.mark.parametrize(("body", "ids", "edges", "warning"), FLOW_FORMS)
def test_flow_body_forms(
    body: str, ids: list[str], edges: list[tuple[str, str]], warning: str | None
) -> None:
    src = (
        HEADER
        + "from dagy import unmapped\n"
        + "def helper(x):\n    return x.upper()\n\n"
        + "def calls_tasks(x):\n    return b(a(x))\n\n"
        + "def fill(acc, items):\n    for i in items:\n        acc.append(a(i))\n\n"
        + "CONFIG = {}\n\n@flow\ndef sub(x=1): ...\n\n"
        + "@flow\ndef f(src, m=None):\n"
        + textwrap.indent(body, "    ")
        + "\n"
    )
    result = analyze_source(src.encode(), "flow.py")
    assert result.problems == [], [str(p) for p in result.problems]
    flow = next(f for f in result.flows if f.spec.function == "f")
    assert ([t.id for t in flow.spec.tasks], flow.spec.edges) == (ids, edges)
    messages = [w.message for w in flow.warnings]
    if warning is None:
        assert messages == []
    else:
        assert any(warning in m for m in messages), messages


def test_calling_forms_record_kind_mapped_and_options() -> None:
    (flow,) = [
        f
        for f in build_flows_from(
            HEADER + "@flow(name='Child Flow', version='3', log_prints=True)\ndef child(): ...\n"
            "@flow\ndef f(xs):\n"
            "    a.map(xs)\n    b.with_options(retries=4, tags=['t'])(1)\n    child()\n"
        )
        if f.spec.function == "f"
    ]
    a, b, child = flow.spec.tasks
    assert (a.id, a.mapped, a.kind) == ("a", True, "task")
    assert (b.retries, b.options) == (4, {"tags": "['t']"})
    assert (child.id, child.kind, child.flow_version, child.function) == (
        "Child Flow",
        "flow",
        "3",
        "child",
    )
    assert child.options == {"log_prints": "True"}


CANNOT = [
    # (body lines, line within the body (1-based), col, message substring): errors
    ("x = a(src)\nfor i in src:\n    x = a(x)", 0, 1, "cycle: a#2 -> a#2"),
    ("for i in src:\n    y = b(x)\n    x = a(y)", 0, 1, "cycle: b -> a -> b"),
    ("loader = object()\nloader.load(src)", 2, 5, "cannot resolve the @task method 'load'"),
]


@pytest.mark.parametrize(("body", "line", "col", "message"), CANNOT)
def test_flow_body_errors(body: str, line: int, col: int, message: str) -> None:
    src = (
        HEADER
        + "class Loader:\n    @task\n    def load(self, x): ...\n\n"
        + "@flow\ndef sub(): ...\n\n"
        + "@flow\ndef f(src, m=None):\n"
        + textwrap.indent(body, "    ")
        + "\n"
    )
    def_line = HEADER_LINES + 9
    result = analyze_source(src.encode(), "flow.py")
    found = [(p.line, p.col, p.message) for p in result.problems]
    want_line = def_line + line
    assert any(pl == want_line and pc == col and message in msg for pl, pc, msg in found), found
    # The broken flow is left out; the clean one in the same file is kept.
    assert [f.spec.name for f in result.flows] == ["sub"]
    assert all(p.path == "flow.py" and p.level == "error" for p in result.problems)


def test_task_methods() -> None:
    src = HEADER + (
        "class Loader:\n    def __init__(self, dsn): ...\n"
        "    @task(name='load-rows')\n    def load(self, x): ...\n"
        "    @staticmethod\n    @task\n    def clean(x): ...\n"
        "@flow\ndef f(src):\n"
        "    loader = Loader(a())\n    x = loader.load(src)\n"
        "    with Loader(src) as other:\n        z = other.load(x)\n"
        "    y = Loader.clean(Loader(src).load.submit(z))\n    b(y)\n"
    )
    (flow,) = build_flows_from(src)
    assert [(t.id, t.function) for t in flow.spec.tasks] == [
        ("a", "a"),
        ("load-rows", "Loader.load"),
        ("load-rows#2", "Loader.load"),
        ("load-rows#3", "Loader.load"),
        ("clean", "Loader.clean"),
        ("b", "b"),
    ]
    assert flow.spec.edges == [
        ("a", "load-rows"),
        ("clean", "b"),
        ("load-rows", "load-rows#2"),
        ("load-rows#2", "load-rows#3"),
        ("load-rows#3", "clean"),
    ]


def test_recursion_and_deep_helper_chains_are_cut_off_with_a_warning() -> None:
    chain = "".join(f"def h{i}(x):\n    return h{i + 1}(a(x))\n" for i in range(40))
    src = (
        HEADER
        + chain
        + "def h40(x):\n    return x\n"
        + ("def walk(x):\n    return walk(b(x))\n@flow\ndef f(src):\n    c(walk(h0(src)))\n")
    )
    result = analyze_source(src.encode(), "flow.py")
    assert result.problems == []
    (flow,) = result.flows
    messages = [w.message for w in flow.warnings]
    assert any("helper calls nest deeper than" in m for m in messages), messages
    assert any("recursive call of 'walk' cut off" in m for m in messages), messages
    ids = [t.id for t in flow.spec.tasks]
    assert ids[-2:] == ["b", "c"] and ("b", "c") in flow.spec.edges


def test_each_problem_is_reported_once_even_inside_loops() -> None:
    body = "x = a()\nfor i in src:\n    nowhere(i)\n    x = b(x)\n"
    src = HEADER + "@flow\ndef f(src):\n" + textwrap.indent(body, "    ")
    result = analyze_source(src.encode(), "f.py")
    assert sum("nowhere" in w.message for w in result.warnings) == 1
    assert sum("cycle" in p.message for p in result.problems) == 1


def test_all_problems_of_a_file_are_collected_in_order() -> None:
    result = analyze("""
        from dagy import flow, task

        @task(retries=-1)
        def bad(): ...

        @flow
        def one():
            nowhere()

        @flow
        def two(*args):
            pass

        @flow
        def three():
            bad()
    """)
    lines = [p.line or 0 for p in result.problems]
    assert lines == sorted(lines)
    # The bad option once where it is written; a flow that calls the task says so, briefly.
    assert [(p.line, p.col) for p in result.problems] == [(3, 15), (11, 10), (16, 5)]
    assert "see flow.py:3:15" in result.problems[2].message
    assert [(w.line, w.col, w.level) for w in result.warnings] == [(8, 5, "warning")]
    assert [f.spec.name for f in result.flows] == ["one"]


def test_star_args_are_errors_and_async_is_understood() -> None:
    assert_problem("from dagy import flow\n@flow\ndef f(a, **kw):\n  pass\n", 3, 12, "takes **kw")
    (flow,) = build_flows_from(
        "import asyncio\nfrom dagy import flow, task\n@task\nasync def t(x): ...\n"
        "@task\nasync def u(x): ...\n"
        "@flow\nasync def f(xs):\n"
        "    got = await asyncio.gather(*[t(x) for x in xs])\n    await u(got)\n"
    )
    assert ([t.id for t in flow.spec.tasks], flow.spec.edges) == (["t", "u"], [("t", "u")])


def test_both_task_and_flow() -> None:
    assert_problem(
        "from dagy import flow, task\n@task\n@flow\ndef f():\n  pass\n",
        4,
        1,
        "cannot be both a @task and a @flow",
    )


def test_duplicate_flow_name_and_version() -> None:
    result = analyze("""
        from dagy import flow

        @flow(name="etl", version="1")
        def one(): ...

        @flow(name="etl", version="1")
        def two(): ...

        @flow(name="etl", version="2")
        def three(): ...
    """)
    ((line, col, message),) = [(p.line, p.col, p.message) for p in result.problems]
    assert (line, col) == (7, 1)
    assert "flow 'etl' version '1' is defined twice" in message and "line 4" in message
    assert [f.spec.function for f in result.flows] == ["one", "three"]


def test_columns_count_characters_not_bytes() -> None:
    assert_problem(
        "from dagy import flow\n@flow\ndef f():\n    é = 'ü'; await x\n",
        4,
        14,
        "'await' outside async function",
    )


# -- whole-file problems ---------------------------------------------------------------------
def test_binary_file() -> None:
    result = analyze_source(b"\x7fELF\x02\x01\x00\x00", "tool.py")
    ((line, col, message),) = [(p.line, p.col, p.message) for p in result.problems]
    assert (line, col, message) == (1, 7, "binary file, not Python source")


def test_not_utf8() -> None:
    result = analyze_source(b"x = 1\ny = '\xff'\n", "latin.py")
    (problem,) = result.problems
    assert (problem.path, problem.line, problem.col, problem.message) == (
        "latin.py",
        2,
        6,
        "not UTF-8 text",
    )


def test_syntax_error() -> None:
    result = analyze_source(b"from dagy import flow\n\ndef f(:\n    pass\n", "bad.py")
    (problem,) = result.problems
    assert (problem.line, problem.col) == (3, 7)
    assert problem.message.startswith("syntax error")
    assert str(problem).startswith("bad.py:3:7: syntax error")


@pytest.mark.parametrize("source", [b"", b"\n\n", b"   \n", b"# just a comment\n"])
def test_empty_file_is_clean(source: bytes) -> None:
    assert analyze_source(source, "empty.py") == FileAnalysis("empty.py", [], [])


def test_byte_order_mark_and_crlf_are_fine() -> None:
    (lf,) = build_flows_from(ORDER_ETL)
    crlf = ("\ufeff" + ORDER_ETL.replace("\n", "\r\n")).encode()
    result = analyze_source(crlf, "flow.py")
    assert result.problems == []
    (flow,) = result.flows
    assert flow.spec == lf.spec
    plain_crlf = ORDER_ETL.replace("\n", "\r\n").encode()
    (flow,) = analyze_source(plain_crlf, "flow.py").flows
    assert (flow.source_file_hash, flow.code_hash) == (lf.source_file_hash, lf.code_hash)


def test_escape_warnings_in_user_code_are_not_ours() -> None:
    # pytest turns warnings into errors: a "\d" in a flow file must not reach the caller.
    (flow,) = build_flows_from(ORDER_ETL + 'PATTERN = "\\d+"\n')
    assert flow.spec.name == "order_etl"


def test_parameters_are_recorded_exactly_as_written() -> None:
    # Not as `ast.unparse` prints them: that text differs between Python versions
    # (tests/test_cross_python.py), and the spec must not.
    src = (
        "from dagy import flow\n\n@flow\ndef f(\n"
        '    a: "list[str]" = ["x"],\n'
        "    b=f'{\"q\"}',\n"
        "    c=lambda: 1,\n"
        "    d: tuple = (  # the comment stays\n"
        "        1, 2),\n"
        '    e="日本 \U0001fae0",\n'
        "    g=((2)),\n"
        "):\n    pass\n"
    )
    (flow,) = build_flows_from(src)
    assert [(p.name, p.annotation, p.default) for p in flow.spec.parameters] == [
        ("a", '"list[str]"', '["x"]'),
        ("b", None, "f'{\"q\"}'"),
        ("c", None, "lambda: 1"),
        ("d", "tuple", "(  # the comment stays\n        1, 2)"),
        ("e", None, '"日本 \U0001fae0"'),
        ("g", None, "2"),
    ]
    # A Windows checkout records the same text, so the same code_hash.
    (crlf,) = analyze_source(src.replace("\n", "\r\n").encode(), "flow.py").flows
    assert (crlf.spec, crlf.code_hash) == (flow.spec, flow.code_hash)


def test_standard_library_and_builtins_of_every_supported_python_are_accepted() -> None:
    # tomllib is new in 3.11; imp, distutils and asyncore are gone in 3.12; telnetlib and cgi
    # in 3.13; ExceptionGroup is 3.11+ and PythonFinalizationError 3.13+. The hook and CI may
    # run different Pythons, so all are accepted on every version, whichever runs.
    src = (
        "import tomllib, imp, asyncore, telnetlib\nimport distutils.util\nfrom cgi import escape\n"
        + HEADER
        + "@flow\ndef f(src):\n"
        "    x = a(tomllib.loads(src), imp.reload, asyncore.loop, telnetlib.Telnet(src))\n"
        "    b(distutils.util.strtobool(x), escape(x))\n"
        "    raise ExceptionGroup('e', [PythonFinalizationError(), EncodingWarning()])\n"
    )
    (flow,) = build_flows_from(src)
    assert flow.spec.edges == [("a", "b")]
    # A module outside the repository (and outside `task_modules`) is ordinary code too.
    found = analyze_source(b"import yaml\n" + src.encode() + b"    yaml.load(src)\n", "f.py")
    assert (found.problems, found.warnings) == ([], [])


def test_mentions_dagy() -> None:
    assert mentions_dagy(b"from dagy import flow")
    assert mentions_dagy(b"import dagy_git")
    assert not mentions_dagy(b"import prefect\n")


# -- files and repositories ------------------------------------------------------------------
TASKS_MODULE = """
from dagy import task

@task(retries=2)
def extract(src): ...

@task
def load(rows): ...

def helper(): ...
"""


def make_repo(root: Path) -> Path:
    write(root, "common/__init__.py", "")
    write(root, "common/tasks.py", TASKS_MODULE)
    write(root, "pkg/__init__.py", "from .tasks import extract\n")
    write(root, "pkg/tasks.py", TASKS_MODULE)
    write(root, "pkg/deep/__init__.py", "")
    return root


IMPORTED = [
    # (file, source of the flow body's imports + calls, expected modules of the tasks)
    (
        "flows/etl/orders.py",
        "from common.tasks import extract, load\nload(extract(1))",
        [
            "common.tasks",
            "common.tasks",
        ],
    ),
    ("flows/etl/orders.py", "from common.tasks import extract as pull\npull(1)", ["common.tasks"]),
    (
        "flows/etl/orders.py",
        "from common import tasks as t\nt.load(t.extract(1))",
        [
            "common.tasks",
            "common.tasks",
        ],
    ),
    ("flows/etl/orders.py", "import common.tasks\ncommon.tasks.extract(1)", ["common.tasks"]),
    ("flows/etl/orders.py", "import common.tasks as ct\nct.extract(1)", ["common.tasks"]),
    ("flows/etl/orders.py", "from pkg import extract\nextract(1)", ["pkg"]),
    ("pkg/flow.py", "from .tasks import extract, load\nload(extract(1))", [".tasks", ".tasks"]),
    ("pkg/flow.py", "from . import tasks\ntasks.extract(1)", [".tasks"]),
    ("pkg/flow.py", "from . import extract\nextract(1)", ["."]),
    ("pkg/deep/flow.py", "from ..tasks import extract\nextract(1)", ["..tasks"]),
    ("flows/etl/orders.py", "import json\nfrom os.path import join\njson.dumps(join('a'))", []),
]


@pytest.mark.parametrize(("rel", "code", "modules"), IMPORTED)
def test_tasks_imported_from_the_repository(
    tmp_path: Path, rel: str, code: str, modules: list[str]
) -> None:
    root = make_repo(tmp_path)
    imports, _, calls = code.rpartition("\n")
    path = write(root, rel, f"from dagy import flow\n{imports}\n\n@flow\ndef f():\n    {calls}\n")
    result = analyze_file(path, repo_root=root)
    assert result.problems == [], [str(p) for p in result.problems]
    (flow,) = result.flows
    assert flow.path == rel
    assert [t.module for t in flow.spec.tasks] == modules
    retries = {t.function: t.retries for t in flow.spec.tasks}
    assert retries.get("extract", 2) == 2


IMPORT_ERRORS = [
    ("from common.badopts import extract", "extract(1)", "retries must be a whole number"),
    ("from .nowhere import extract", "extract(1)", "module '.nowhere' is not in the repository"),
    ("from common.tasks import missing", "missing(1)", "'common.tasks' has no 'missing'"),
    ("from common.broken import extract", "extract(1)", "'common.broken' cannot be read"),
]
IMPORT_WARNINGS = [
    (
        "from dagy import flow as nowhere_else",
        "undefined_name(1)",
        "'undefined_name' is not defined",
    ),
]
IMPORT_ORDINARY = [
    ("from nowhere.tasks import extract", "extract(1)"),
    ("from common.tasks import helper", "helper()"),
    ("import pandas as pd", "pd.DataFrame([])"),
]


@pytest.mark.parametrize(("imports", "call", "message"), IMPORT_WARNINGS)
def test_imports_that_cannot_be_followed_warn(
    tmp_path: Path, imports: str, call: str, message: str
) -> None:
    root = make_repo(tmp_path)
    path = write(
        root, "flows/f.py", f"from dagy import flow\n{imports}\n@flow\ndef f():\n    {call}\n"
    )
    result = analyze_file(path, repo_root=root)
    assert result.problems == []
    found = [(w.path, w.line, w.col, w.message) for w in result.warnings]
    assert any(
        (p, line, col) == ("flows/f.py", 5, 5) and message in m for p, line, col, m in found
    ), found


@pytest.mark.parametrize(("imports", "call"), IMPORT_ORDINARY)
def test_calls_outside_the_repository_are_ordinary_code(
    tmp_path: Path, imports: str, call: str
) -> None:
    root = make_repo(tmp_path)
    write(root, "common/broken.py", "def (:\n")
    path = write(
        root, "flows/f.py", f"from dagy import flow\n{imports}\n@flow\ndef f():\n    {call}\n"
    )
    result = analyze_file(path, repo_root=root)
    assert (result.problems, result.warnings) == ([], [])
    assert [f.spec.tasks for f in result.flows] == [[]]


@pytest.mark.parametrize(("imports", "call", "message"), IMPORT_ERRORS)
def test_imports_that_cannot_be_followed(
    tmp_path: Path, imports: str, call: str, message: str
) -> None:
    root = make_repo(tmp_path)
    write(root, "common/broken.py", "def (:\n")
    write(
        root, "common/badopts.py", "from dagy import task\n@task(retries=-2)\ndef extract(): ...\n"
    )
    path = write(
        root, "flows/f.py", f"from dagy import flow\n{imports}\n@flow\ndef f():\n    {call}\n"
    )
    result = analyze_file(path, repo_root=root)
    found = [(p.path, p.line, p.col, p.message) for p in result.problems]
    assert any(
        (p, line, col) == ("flows/f.py", 5, 5) and message in m for p, line, col, m in found
    ), found
    assert result.flows == []


def test_absolute_imports_stop_at_the_repo_root(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    path = write(
        root,
        "flows/f.py",
        "from dagy import flow\nfrom common.tasks import extract\n@flow\ndef f():\n    extract()\n",
    )
    assert [t.id for t in build_flows(path, repo_root=root)[0].spec.tasks] == ["extract"]
    # Without a repository root only the file's own folder is searched: `common` is then
    # a module outside the repository, and its call ordinary code.
    assert [f.spec.tasks for f in analyze_file(path).flows] == [[]]
    # Nor without a file to start from.
    assert [f.spec.tasks for f in analyze_source(path.read_bytes(), "f.py").flows] == [[]]


def test_edited_task_module_is_read_again(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    path = write(
        root,
        "flows/f.py",
        "from dagy import flow\nfrom common.tasks import extract\n@flow\ndef f():\n    extract()\n",
    )
    (before,) = build_flows(path, repo_root=root)
    write(root, "common/tasks.py", TASKS_MODULE.replace("retries=2", "retries=17"))
    (after,) = build_flows(path, repo_root=root)
    assert (before.spec.tasks[0].retries, after.spec.tasks[0].retries) == (2, 17)
    assert before.code_hash != after.code_hash  # the flow file itself did not change


def test_analyze_file_and_build_flows(tmp_path: Path) -> None:
    good = write(tmp_path, "flows/good.py", ORDER_ETL)
    assert analyze_file(good, repo_root=tmp_path).path == "flows/good.py"
    assert analyze_file(good, display_path="x/y.py").flows[0].path == "x/y.py"
    (flow,) = build_flows(good, repo_root=tmp_path)
    assert flow.spec.name == "order_etl"

    bad = write(tmp_path, "flows/bad.py", ORDER_ETL.replace("clean = transform(raw)", "await raw"))
    with pytest.raises(SpecError) as info:
        build_flows(bad, repo_root=tmp_path)
    assert str(info.value).startswith("flows/bad.py:22:5: 'await' outside async function")

    missing = analyze_file(tmp_path / "nope.py", repo_root=tmp_path)
    assert missing.problems[0].message.startswith("cannot read file")


# -- size and speed --------------------------------------------------------------------------
def _big_source(target_bytes: int) -> bytes:
    parts = ["from dagy import flow, task\n"]
    size, i = 0, 0
    while size < target_bytes:
        chunk = f'''
ROWS_{i} = [{", ".join(str(n) for n in range(40))}]


def helper_{i}(rows):
    """A plain function with some body, as real modules have."""
    total = 0
    for row in rows:
        if row % 3 == 0:
            total += row * 2
        else:
            total -= row
    return {{"total": total, "name": "helper_{i}"}}


@task(retries=1)
def extract_{i}(source: str) -> list:
    return [source] * 3


@task
def transform_{i}(records: list) -> list:
    return [r.upper() for r in records if r]
'''
        if i % 5 == 0:
            chunk += f"""

@flow(name="etl_{i}", version="1.{i}")
def etl_{i}(source: str = "s3://data/{i}/"):
    raw = extract_{i}(source)
    for r in raw:
        if r:
            clean = transform_{i}(raw)
    return transform_{i}(clean)
"""
        parts.append(chunk)
        size += len(chunk)
        i += 1
    return "".join(parts).encode()


@pytest.mark.slow
def test_a_5mb_file_is_analysed() -> None:
    """A 5 MB module (a thousand flows) analyses completely; how fast, relative to
    `ast.parse` of the same bytes, is the bench figure `analysis.big_file`."""
    result = analyze_source(_big_source(5_000_000), "big.py")
    assert result.problems == []
    assert len(result.flows) > 1000


@pytest.mark.slow
def test_a_thousand_flow_files_analyse(tmp_path: Path) -> None:
    make_repo(tmp_path)
    paths = []
    for i in range(1000):
        if i % 2:
            text = ORDER_ETL.replace("order_etl", f"flow_{i}")
        else:
            text = (
                "from dagy import flow\nfrom common.tasks import extract, load\n"
                f"@flow\ndef flow_{i}(src='x'):\n    load(extract(src))\n"
            )
        paths.append(write(tmp_path, f"flows/team{i % 10}/f{i}.py", text))
    for path in paths:
        assert analyze_file(path, repo_root=tmp_path).flows


# -- robustness --------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    result = analyze_source(text.encode("utf-8", "surrogatepass"), "fuzz.py")
    assert all(isinstance(p, SpecError) and p.path == "fuzz.py" for p in result.problems)


@settings(max_examples=100, deadline=None)
@given(st.binary())
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = analyze_source(data, "fuzz.py")
    assert all(isinstance(p, SpecError) for p in result.problems)


BODY_LINES = [
    "x = a(src)",
    "y = b(x)",
    "x = c(y, wait_for=[x])",
    "for i in x:",
    "    y = a(i)",
    "if y:",
    "    x = b()",
    "while x:",
    "    x, y = y, c(x)",
    "with a() as z:",
    "    z.f = b(z)",
    "try:",
    "    pass",
    "except Exception:",
    "    x += 1",
    "g = a",
    "g(x)",
    "map(b, x)",
    "return c(x[0], f'{y}')",
    "[a(v) for v in x]",
    "lambda: b(1)",
    "helper()",
    "(1 + (2 * (3 - x)))",
    "match x:",
    "    case [p, *q]:",
    "        a(p)",
    "del x",
    "alias = x",
    "alias = alias[y] or [x]",
    "y.setdefault(1, []).append(a(alias))",
    "x[b()].z = alias",
    "x = nowhere()",
    "    pass",
    ")",
    # the forms of issue 7: futures, maps, options, helpers, subflows, async, recursion
    "f = a.submit(x)",
    "y = f.result()",
    "z = b.map(x, unmapped(y))",
    "c.with_options(retries=2, tags=['t'])(z)",
    "fast = a.with_options(name='fast')",
    "fast(x)",
    "x = twice(x)",
    "y = recurse(y)",
    "def inner(v):",
    "    return a(v, x)",
    "y = inner(z)",
    "x = await a(x)",
    "sub(x)",
    "a.fn(y)",
    "Loader(x).load(y)",
    "getattr(x, 'a')(y)",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(BODY_LINES), max_size=12))
def test_random_flow_bodies_never_raise(lines: list[str]) -> None:
    body = "\n".join("    " + line for line in lines) or "    pass"
    src = HEADER + (
        "from dagy import unmapped\n"
        "def helper(): ...\n"
        "def twice(v):\n    return b(a(v))\n"
        "def recurse(v):\n    return recurse(c(v))\n"
        "class Loader:\n    @task\n    def load(self, v): ...\n"
        "@flow\ndef sub(v=1): ...\n"
        "@flow\nasync def f(src):\n" + body + "\n"
    )
    result = analyze_source(src.encode(), "fuzz.py")
    assert all(isinstance(p, SpecError) and p.line for p in result.problems)
    assert all(w.level == "warning" and w.line for w in result.warnings)
    for flow in result.flows:
        ids = [t.id for t in flow.spec.tasks]
        assert len(ids) == len(set(ids))
        assert all(up in ids and down in ids for up, down in flow.spec.edges)
        assert flow.spec.edges == sorted(set(flow.spec.edges))


def test_imported_tasks_passed_as_values_are_approximate_nodes(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    path = write(
        root,
        "flows/f.py",
        "from dagy import flow\nfrom common import tasks as t\n\n@flow\ndef f(items):\n"
        "    xs = list(map(t.extract, items))\n"
        "    list(map(lambda v: t.load(v), xs))\n",
    )
    result = analyze_file(path, repo_root=root)
    assert result.problems == []
    (flow,) = result.flows
    assert [(t.id, t.module) for t in flow.spec.tasks] == [
        ("extract", "common.tasks"),
        ("load", "common.tasks"),
    ]
    assert flow.spec.edges == [("extract", "load")]
    assert [(w.line, w.col) for w in flow.warnings] == [(6, 19)]
    assert "task 'extract' is passed as a value" in flow.warnings[0].message


def test_cycle_through_an_inner_loop_is_found() -> None:
    body = "for i in src:\n    for j in src:\n        y = b(x)\n        x = a(y)\n    x = 0\n"
    src = HEADER + "@flow\ndef f(src):\n" + textwrap.indent(body, "    ")
    messages = [p.message for p in analyze_source(src.encode(), "f.py").problems]
    assert messages == ["cycle: b -> a -> b"]


def test_nested_loops_without_feedback_are_fine() -> None:
    assert flow_graph("for i in src:\n    for j in i:\n        x = a(j)\n    b(x)") == (
        ["a", "b"],
        [("a", "b")],
    )


def test_deeply_nested_loops_stay_fast() -> None:
    depth = 19  # CPython refuses to compile 20 nested blocks (see below)
    lines = []
    for d in range(depth):
        lines.append("    " * (d + 1) + f"for i{d} in src:")
        lines.append("    " * (d + 2) + f"v{d} = a(v{d + 1}, i{d})")
    src = HEADER + "@flow\ndef f(src):\n" + "\n".join(lines) + "\n"
    result = analyze_source(src.encode(), "deep.py")
    assert result.problems == []
    (flow,) = result.flows
    assert len(flow.spec.tasks) == depth
    # Each level feeds the one around it: a#19 -> a#18 -> … -> a.
    assert ("a#2", "a") in flow.spec.edges and len(flow.spec.edges) == depth - 1
    # Deeper, the file is one Python itself would not compile: an error, not a crash.
    deeper = (
        HEADER
        + "@flow\ndef f(src):\n"
        + "\n".join("    " * (d + 1) + f"for i{d} in src:" for d in range(60))
        + "\n"
        + "    " * 61
        + "pass\n"
    )
    (problem,) = analyze_source(deeper.encode(), "deep.py").problems
    assert problem.message == "too many statically nested blocks"


def test_a_computed_task_option_makes_every_flow_that_calls_it_approximate() -> None:
    result = analyze(
        """
        import os
        from dagy import flow, task

        @task(retries=int(os.environ["R"]))
        def t(): ...

        @flow
        def uses():
            t()
            t.submit()

        @flow
        def other(): ...
        """
    )
    flows = {f.spec.name: f for f in result.flows}
    assert [(w.line, w.col) for w in flows["uses"].warnings] == [(4, 15)]
    assert flows["other"].warnings == []
    assert len(result.warnings) == 1  # reported once for the file


def test_helpers_that_multiply_are_cut_off_not_hung() -> None:
    # h0 calls h1 twice, h1 calls h2 twice, …: 2**15 walks if followed naively.
    chain = "".join(f"def h{i}(x):\n    return h{i + 1}(h{i + 1}(x))\n" for i in range(15))
    src = HEADER + chain + "def h15(x):\n    return a(x)\n@flow\ndef f(src):\n    b(h0(src))\n"
    result = analyze_source(src.encode(), "flow.py")
    assert result.problems == []
    (flow,) = result.flows
    assert any("helper calls: 'h" in w.message for w in flow.warnings)
    assert 500 < len(flow.spec.tasks) <= 2100
