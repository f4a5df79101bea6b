"""The data-flow walk of one flow body: which task call sites exist and what feeds them.

Statements and expressions are walked in evaluation order against a `FlowEnv` (see
`env.py`), which says what each variable carries and which names may share an object; calls
are `calls.py`'s (a helper the flow calls is walked as a frame of its own, with this class).
Branches merge (union), and the body is walked again while what a loop carries into its next
iteration still grows, so a task that feeds itself through a loop shows up as a self edge
(reported as a cycle by the caller).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable

from dagy_git.analysis.astnodes import children, dotted, pairwise, referents
from dagy_git.analysis.calls import Callee, CallSites
from dagy_git.analysis.env import EMPTY, Deps, alias_key, is_alias_key

_HINT_DIRECT = "call tasks directly by name in the flow body, e.g. `raw = extract(source)`"


class FlowWalker(CallSites):
    """Walk one `@flow` function body (or a helper's, as a frame); the nodes, upstreams and
    problems go to the shared `graph`."""

    def run(self) -> None:
        """Walk the whole flow, again while a loop's carried state still grows."""
        while True:
            self.graph.grew = False
            self.graph.frames = 0
            self.env.clear()
            self.callables.clear()
            self.instances.clear()
            self.walk_body()
            if not self.graph.grew:
                return

    def walk_body(self) -> None:
        """Walk this frame's function body once (a lambda: its expression)."""
        if isinstance(self.fn, ast.Lambda):
            self.returns |= self.expr(self.fn.body)
        else:
            self.block(self.fn.body)

    # -- loops and sharing ----------------------------------------------------------------
    def refs(self, node: ast.expr) -> set[str]:
        """The local names whose objects the value of `node` may share (see `referents`)."""
        return referents(node, self.locals, self.fresh)

    def fresh(self, call: ast.Call) -> bool:
        """Whether `call`'s result is a new value, shared with nothing: a task or subflow
        call, or a helper of the repository (its return value is walked, not guessed)."""
        found = self.callee(call.func)
        return found.kind == "helper" or (
            found.kind == "node" and found.form in (None, "submit", "map")
        )

    def loop(self, key: ast.stmt, head: Callable[[], object], body: list[ast.stmt]) -> None:
        """Walk a loop body once, from its entry state plus what earlier passes left.

        What the body leaves at its end is remembered per loop (`_heads`); when that grows,
        `run` walks the whole flow again. Iterating the whole body rather than each loop to
        its own fixpoint keeps nested loops polynomial instead of exponential.
        """
        carried = self.graph.heads.setdefault((*self.path, id(key)), {})
        for name, deps in carried.items():
            self.put(name, self.env.get(name, EMPTY) | deps)
        self.push()
        head()
        self.block(body)
        for name, (_, now) in self.pop(restore=True).items():
            if not now <= carried.get(name, EMPTY):
                carried[name] = carried.get(name, EMPTY) | now
                self.graph.grew = True
            # After the loop: zero or more iterations ran.
            self.put(name, self.env.get(name, EMPTY) | now)

    # -- statements -----------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        """Walk statements in order."""
        for stmt in stmts:
            self.stmt(stmt)

    def stmt(self, s: ast.stmt) -> None:
        """Walk one statement of the flow body."""
        if isinstance(s, ast.Assign) and pairwise(s.targets, s.value):
            # `a, b = x(), y()`: each name gets its own value (all evaluated before binding).
            elts = s.value.elts  # type: ignore[attr-defined]
            values = [(self.expr(v), self.refs(v)) for v in elts]
            for elt, (deps, refs) in zip(s.targets[0].elts, values, strict=True):  # type: ignore[attr-defined]
                self.bind(elt, deps, refs=refs)
        elif isinstance(s, ast.Assign):
            held = self.value_callee(s.value)
            deps = self.expr(s.value) if held is None else EMPTY
            for target in s.targets:
                self.bind(target, deps, refs=self.refs(s.value))
                self.note(target, s.value, held)
        elif isinstance(s, ast.AnnAssign):
            if s.value is not None:
                held = self.value_callee(s.value)
                deps = self.expr(s.value) if held is None else EMPTY
                self.bind(s.target, deps, refs=self.refs(s.value))
                self.note(s.target, s.value, held)
        elif isinstance(s, ast.AugAssign):
            deps = self.expr(s.value) | self.expr(s.target)
            self.bind(s.target, deps, weak=True, refs=self.refs(s.value))
        elif isinstance(s, ast.Return):
            if s.value is not None:
                self.returns |= self.expr(s.value)
        elif isinstance(s, ast.Expr):
            self.expr(s.value)
        elif isinstance(s, ast.If):
            self.expr(s.test)
            self.branches([lambda: self.block(s.body), lambda: self.block(s.orelse)])
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            it, refs = self.expr(s.iter), self.refs(s.iter)
            self.loop(s, lambda: self.bind(s.target, it, refs=refs), s.body)
            self.block(s.orelse)
        elif isinstance(s, ast.While):
            self.expr(s.test)
            self.loop(s, lambda: self.expr(s.test), s.body)
            self.block(s.orelse)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                deps = self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, deps, refs=self.refs(item.context_expr))
                    # `with Loader(dsn) as loader:` — taken as the instance itself.
                    self.note(item.optional_vars, item.context_expr, None)
            self.block(s.body)
        elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            self.try_(s)
        elif isinstance(s, ast.Match):
            subject, refs = self.expr(s.subject), self.refs(s.subject)
            arms: list[Callable[[], None]] = [lambda: None]
            arms += [functools.partial(self.case, case, subject, refs) for case in s.cases]
            self.branches(arms)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # A nested def: walked where it is called, as a frame that sees this one.
            self.put(s.name, EMPTY)
            self.instances.pop(s.name, None)
            self.callables[s.name] = Callee("helper", fn=s, owner=self.mod, closure=self)
        elif isinstance(s, ast.ClassDef):
            self.put(s.name, self.free_deps(s))
        elif isinstance(s, (ast.Import, ast.ImportFrom)):
            for alias in s.names:
                self.put((alias.asname or alias.name).split(".")[0], EMPTY)
        elif isinstance(s, ast.Delete):
            for target in s.targets:
                if isinstance(target, ast.Name):
                    self.assign(target.id, EMPTY)
                else:
                    self.expr(target)
        else:  # raise, assert, pass, break, continue, global, nonlocal, type aliases
            for child in ast.iter_child_nodes(s):
                if isinstance(child, ast.expr):
                    self.expr(child)

    def note(self, target: ast.expr, value: ast.expr, held: Callee | None) -> None:
        """Remember what a name holds beyond data: a task or helper (`f = extract`,
        `fast = extract.with_options(...)`), or an instance of a repository class."""
        if not isinstance(target, ast.Name):
            return
        name = target.id
        self.callables.pop(name, None)
        self.instances.pop(name, None)
        if held is not None:
            self.callables[name] = held
        elif isinstance(value, ast.Call):
            made = self.callee(value.func)
            if made.kind == "class":
                self.instances[name] = made

    def try_(self, s: ast.stmt) -> None:
        """`try`: the handlers may start from any point of the body, `finally` after all."""
        self.push()
        self.block(getattr(s, "body", []))
        changed = self.pop(restore=False)

        def handler(h: ast.ExceptHandler) -> None:
            # The exception may come from anywhere in the body: before or after each change.
            for name, (before, now) in changed.items():
                self.put(name, before | now)
            if h.type is not None:
                self.expr(h.type)
            if h.name:
                self.put(h.name, EMPTY)
            self.block(h.body)

        arms: list[Callable[[], None]] = [lambda: self.block(getattr(s, "orelse", []))]
        arms += [functools.partial(handler, h) for h in getattr(s, "handlers", [])]
        self.branches(arms)
        self.block(getattr(s, "finalbody", []))

    def case(self, case: ast.match_case, subject: Deps, refs: set[str]) -> None:
        """One `case` of a `match`: its captures carry (and are parts of) the subject."""
        for node in ast.walk(case.pattern):
            name = getattr(node, "name", None) or getattr(node, "rest", None)
            if isinstance(name, str):
                self.assign(name, subject, refs)
            if isinstance(node, ast.MatchValue):
                self.expr(node.value)
        if case.guard is not None:
            self.expr(case.guard)
        self.block(case.body)

    def bind(
        self, target: ast.expr, deps: Deps, weak: bool = False, refs: Iterable[str] = ()
    ) -> None:
        """Assign a value carrying `deps` (sharing objects with `refs`) to a target.

        `x.a = v`, `x[k] = v` and `x += v` change `x`'s object in place: they add to what `x`,
        and every name sharing its object, carries.
        """
        if isinstance(target, ast.Name):
            if weak:
                self.mutate(target.id, deps, refs)
            else:
                self.assign(target.id, deps, refs)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind(elt, deps, weak, refs)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, deps, weak, refs)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            # Python's order: the object, then the key. Keys on the way (`d[a()].x = v`), as
            # the key itself, decide what the object holds.
            held = self.expr(target.value)
            extra = self.expr(target.slice) if isinstance(target, ast.Subscript) else EMPTY
            for owner in self.refs(target.value):
                self.mutate(owner, deps | extra | held, refs)

    # -- expressions ----------------------------------------------------------------------
    def expr(self, node: ast.expr) -> Deps:
        """The task nodes whose results reach the value of `node`."""
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                return self.env.get(node.id, EMPTY)
            self.check_value(node, (node.id,))
            return EMPTY
        if isinstance(node, ast.Constant):
            return EMPTY
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            chain = dotted(node)
            if chain is not None and chain[0] not in self.locals:
                self.check_value(node, chain)
                return EMPTY
            return self.expr(node.value)
        if isinstance(node, ast.NamedExpr):
            deps = self.expr(node.value)
            self.bind(node.target, deps, refs=self.refs(node.value))
            return deps
        if isinstance(node, ast.Lambda):
            # Not called here: assume it runs (as `df.apply(lambda r: t(r))` would).
            return self.enter(Callee("helper", fn=node, owner=self.mod, closure=self), node, [], [])
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            deps = self.expr(node.value) if node.value is not None else EMPTY
            self.returns |= deps
            return deps
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self.comprehension(node)
        out: set[str] = set()
        for child in children(node):
            if isinstance(child, ast.expr):
                out |= self.expr(child)
            elif isinstance(child, ast.keyword):
                out |= self.expr(child.value)
        return frozenset(out) if out else EMPTY

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> Deps:
        """A comprehension: its own scope; the result carries what its parts carry.

        Only its loop variables are its own: what it mutates (`[acc.append(t(x)) for …]`)
        or binds with `:=` stays changed after it.
        """
        self.push()
        out: set[str] = set()
        scoped: set[str] = set()
        for gen in node.generators:
            it = self.expr(gen.iter)
            self.bind(gen.target, it, refs=self.refs(gen.iter))
            scoped |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
            for cond in gen.ifs:
                out |= self.expr(cond)
        elts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for elt in elts:
            out |= self.expr(elt)
        changed = self.pop(restore=scoped | {alias_key(name) for name in scoped})
        for name, (_, now) in changed.items():
            if not is_alias_key(name):
                out |= now
        return frozenset(out)

    # -- what cannot be followed ------------------------------------------------------------
    def check_value(self, node: ast.expr, chain: tuple[str, ...]) -> None:
        """A task or flow used as a value (not called) hides calls we cannot follow."""
        sym = self.mod.symbol(chain)
        if sym.kind in ("task", "flow") and sym.form is None:
            self.warn(
                f"{sym.kind} {'.'.join(chain)!r} is used as a value: calls made through it "
                "are not in the spec",
                node,
                hint=_HINT_DIRECT,
            )

    def free_deps(self, node: ast.AST) -> Deps:
        """What the flow variables used inside a nested function or lambda carry."""
        out: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.env:
                out |= self.env[sub.id]
        return frozenset(out)
