"""Call sites in a flow walk: which calls are tasks or subflows, and which are helpers.

Every calling form of the SDK is understood: `t(x)`, `t.submit(x)`, `t.map(xs)` (one node,
marked mapped), `t.with_options(...)(x)` (options overridden for that node), `await t(x)`,
`t.fn(x)` (a plain call, no node). A call of another `@flow` is a node of kind flow. A
helper function of the repository (same file, another module, or nested in the flow) is
walked as a frame of its own, so its task calls become nodes of the flow with edges through
its arguments and return value. Every other call is ordinary code: data flows through it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from dagy_git.analysis.astnodes import (
    call_base,
    calls_with_options,
    dotted,
    local_names,
    param_names,
)
from dagy_git.analysis.decorators import read_options
from dagy_git.analysis.env import EMPTY, Deps, FlowEnv
from dagy_git.analysis.graph import Graph
from dagy_git.analysis.module import FORMS, ModuleInfo, Symbol, TaskDef
from dagy_git.analysis.params import bind_params

__all__ = ["MAX_DEPTH", "CallSites", "Callee"]

MAX_DEPTH = 16  # helper calls nested deeper than this are cut off (with a warning)
# Helpers calling helpers several times each multiply: past this many helper walks in one
# flow, further calls are not followed (with a warning), so no input can make it hang.
MAX_FRAMES = 2000
Fn = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass(frozen=True)
class Callee:
    """What a call calls. kind: ``node`` (a task or subflow; `form` is None, "submit",
    "map", "fn" or "with_options") · ``helper`` (`fn` in `owner`; `closure` is the frame a
    nested def was defined in) · ``class`` (`cls` in `owner`) · ``plain``."""

    kind: str
    task: TaskDef | None = None
    module: str | None = None
    form: str | None = None
    fn: Fn | None = None
    owner: ModuleInfo | None = None
    closure: CallSites | None = None
    cls: ast.ClassDef | None = None


PLAIN = Callee("plain")


class CallSites(FlowEnv):
    """One frame of a flow walk (the flow body, or a helper it calls): its call handling.

    `walker.FlowWalker` adds statements and expressions on top.
    """

    def __init__(
        self,
        mod: ModuleInfo,
        fn: Fn,
        graph: Graph,
        *,
        path: tuple[int, ...] = (),
        stack: tuple[int, ...] = (),
        module_as: str | None = None,
        closure: CallSites | None = None,
    ) -> None:
        own = _names_of(mod, fn, params=True)
        outer = (closure.locals - own) if closure is not None else set()
        super().__init__(own | outer)
        self.mod, self.fn, self.graph = mod, fn, graph
        self.path, self.stack, self.module_as, self.closure = path, stack, module_as, closure
        self.outer_names = outer
        self.callables: dict[str, Callee] = {}  # locals bound to tasks, helpers, lambdas
        self.instances: dict[str, Callee] = {}  # locals bound to instances of repo classes
        self.returns: set[str] = set()
        if closure is not None:
            for name in outer:
                if name in closure.env:
                    self.env[name] = closure.env[name]
                if name in closure.callables:
                    self.callables[name] = closure.callables[name]
                if name in closure.instances:
                    self.instances[name] = closure.instances[name]

    # provided by walker.FlowWalker
    def expr(self, node: ast.expr) -> Deps:  # pragma: no cover - abstract
        """The task nodes whose results reach the value of `node`."""
        raise NotImplementedError

    def refs(self, node: ast.expr) -> set[str]:  # pragma: no cover - abstract
        """The local names whose objects the value of `node` may share."""
        raise NotImplementedError

    def walk_body(self) -> None:  # pragma: no cover - abstract
        """Walk this frame's function body once."""
        raise NotImplementedError

    # -- problems -------------------------------------------------------------------------
    def warn(self, message: str, node: ast.AST, hint: str | None = None) -> None:
        """Record where the spec is approximate."""
        self.graph.report(self.mod.warning(message, node, hint=hint))

    def fail(self, message: str, node: ast.AST, hint: str | None = None) -> None:
        """Record an error: the file cannot be specified."""
        self.graph.report(self.mod.error(message, node, hint=hint))

    # -- what a callee expression means ---------------------------------------------------
    def callee(self, func: ast.expr) -> Callee:
        """What calling `func` calls (PLAIN for ordinary code)."""
        if isinstance(func, ast.Call):
            return self._with_options(func)
        base, attrs = call_base(func)
        if base is not None:
            inner = self.callee(base.func)
            if inner.kind == "node" and inner.form == "with_options" and attrs[0] in FORMS:
                return Callee("node", *self._overridden(inner, base), form=attrs[0])
            if inner.kind == "class" and inner.cls is not None and inner.owner is not None:
                return self._from_symbol(inner.owner.method_symbol(inner.cls, attrs))
            return PLAIN
        if isinstance(func, ast.Lambda):
            return Callee("helper", fn=func, owner=self.mod, closure=self)
        chain = dotted(func)
        if chain is None:
            return PLAIN
        head = chain[0]
        if head in self.callables:
            found = self.callables[head]
            if len(chain) == 1:
                return found
            if found.kind == "node" and found.form is None and chain[1:] and chain[1] in FORMS:
                return Callee("node", found.task, found.module, chain[1])
            return PLAIN
        if head in self.instances and len(chain) >= 2:
            inst = self.instances[head]
            if inst.owner is not None and inst.cls is not None:
                return self._from_symbol(inst.owner.method_symbol(inst.cls, chain[1:]))
        if head in self.locals:
            return PLAIN
        return self._from_symbol(self.mod.symbol(chain), func)

    def _from_symbol(self, sym: Symbol, at: ast.expr | None = None) -> Callee:
        if sym.kind in ("task", "flow") and sym.task is not None:
            # Defined in this frame's module: in a helper of another module, that module.
            module = sym.module if sym.module is not None else self.module_as
            return Callee("node", sym.task, module, sym.form)
        if sym.kind == "function" and sym.fn is not None:
            return Callee("helper", fn=sym.fn, owner=sym.owner, module=sym.module)
        if sym.kind == "class":
            return Callee("class", cls=sym.cls, owner=sym.owner)
        if at is not None and sym.kind == "broken":
            # One line that points at the definition's own error, not a repeat of it.
            self.fail(f"cannot use {'.'.join(dotted(at) or ())!r}: {sym.detail}", at)
        if at is not None and sym.kind == "missing":
            self.warn(
                f"cannot resolve {'.'.join(dotted(at) or ())!r}: {sym.detail}; "
                "treated as ordinary code",
                at,
            )
        return PLAIN

    def _with_options(self, call: ast.Call) -> Callee:
        """`t.with_options(...)` used as the callee: the task with its options overridden."""
        inner = self.callee(call.func)
        if inner.kind == "node" and inner.form == "with_options":
            return Callee("node", *self._overridden(inner, call))
        return PLAIN

    def _overridden(self, base: Callee, call: ast.Call) -> tuple[TaskDef, str | None]:
        assert base.task is not None
        opts = read_options(base.task.kind, self.mod, call.args, call.keywords, ".with_options")
        for problem in [*opts.errors, *opts.warnings]:
            self.graph.report(problem)
        return base.task.with_options(opts), base.module

    def value_callee(self, value: ast.expr) -> Callee | None:
        """A task, subflow or helper held as a value (`f = extract`, `fast =
        extract.with_options(...)`, `g = lambda x: …`), or None."""
        if isinstance(value, ast.Call):
            found = self._with_options(value) if calls_with_options(value) else None
            return found if found is not None and found.kind == "node" else None
        if isinstance(value, (ast.Name, ast.Attribute, ast.Lambda)):
            found = self.callee(value)
            if found.kind == "helper" or (found.kind == "node" and found.form is None):
                return found
        return None

    # -- calls ------------------------------------------------------------------------------
    def call(self, node: ast.Call) -> Deps:
        """A call: a task or subflow call site becomes a node; a helper is walked; other
        calls pass data through."""
        callee = self.callee(node.func)
        if callee.kind == "plain":
            return self._plain(node)
        positional = [(self._arg(a), a) for a in node.args]
        keywords = [(kw.arg, self._arg(kw.value), kw.value) for kw in node.keywords]
        args = frozenset().union(*(d for d, _ in positional), *(d for _, d, _ in keywords))
        owner = EMPTY
        base, _ = call_base(node.func)
        if base is not None:
            owner = self._receiver(base)
        elif (chain := dotted(node.func)) is not None and chain[0] in self.instances:
            owner = self.env.get(chain[0], EMPTY)  # the instance is an argument too
        if callee.kind == "class":
            return args | owner
        if callee.kind == "helper":
            waits = [d for k, d, _ in keywords if k == "wait_for"]
            return self.enter(callee, node, positional, keywords).union(owner, *waits)
        if callee.form in ("fn", "with_options"):  # a plain call of the function / no call yet
            return args | owner
        assert callee.task is not None
        key = (*self.path, id(node))
        node_id = self.graph.node(
            key, callee.task, callee.module, set(args | owner), mapped=callee.form == "map"
        )
        return frozenset({node_id})

    def _arg(self, value: ast.expr) -> Deps:
        return self.expr(value.value if isinstance(value, ast.Starred) else value)

    def _receiver(self, call: ast.Call) -> Deps:
        """What the object a method is called on carries (`Loader(dsn).load(x)`)."""
        if calls_with_options(call):
            return frozenset().union(*(self.expr(kw.value) for kw in call.keywords))
        return self.expr(call)

    def _plain(self, node: ast.Call) -> Deps:
        """Ordinary code: its result carries its arguments (and its receiver's data).

        A task or helper passed as an argument (`executor.map(fetch, urls)`,
        `df.apply(lambda r: enrich(r))`) is assumed to be called by it, with its other
        arguments: an approximation, so a task there also gets a warning.
        """
        func = node.func
        values = [*node.args, *(kw.value for kw in node.keywords)]
        callbacks = [(v, c) for v in values if (c := self._callback(v)) is not None]
        data = [v for v in values if all(v is not cb for cb, _ in callbacks)]
        args: set[str] = set()
        waits: set[str] = set()
        for kw in node.keywords:
            if kw.arg == "wait_for":
                waits |= self.expr(kw.value)
        for value in data:
            if not any(value is kw.value and kw.arg == "wait_for" for kw in node.keywords):
                args |= self._arg(value)
        for value, callee in callbacks:
            args |= self._callback_call(value, callee, frozenset(args))
        chain = dotted(func)
        if isinstance(func, ast.Attribute) and (chain is None or chain[0] in self.locals):
            self._check_method(func, chain)
            # A method of a value: mutators such as `results.append(x)`, `d[k].append(x)` or
            # `d.setdefault(k, []).append(x)` feed every local the receiver may share.
            owner = self.expr(func.value)
            refs = set().union(*(self.refs(v) for v in data))
            for name in self.refs(func.value):
                self.mutate(name, frozenset(args), refs)
            return frozenset(owner | args | waits)
        if chain is None:
            self._check_computed(func)
            return frozenset(args | waits | self.expr(func))
        return frozenset(args | waits)

    def _callback(self, value: ast.expr) -> Callee | None:
        if not isinstance(value, (ast.Name, ast.Attribute, ast.Lambda)):
            return None
        chain = dotted(value) if not isinstance(value, ast.Lambda) else None
        if chain is not None and chain[0] in self.locals and chain[0] not in self.callables:
            return None
        found = self.callee(value)
        if found.kind == "helper" or (found.kind == "node" and found.form in (None, "fn")):
            return found
        return None

    def _callback_call(self, value: ast.expr, callee: Callee, data: Deps) -> Deps:
        if callee.kind == "helper":
            return self.enter(callee, value, [], [], everything=data)
        assert callee.task is not None
        if callee.form == "fn":
            return EMPTY
        self.warn(
            f"{callee.task.kind} {callee.task.name!r} is passed as a value: assumed to run "
            "as one node, fed by the call's other arguments",
            value,
            hint="call it directly (or with .map/.submit) so the spec is exact",
        )
        key = (*self.path, id(value))
        return frozenset({self.graph.node(key, callee.task, callee.module, set(data))})

    def _check_method(self, func: ast.Attribute, chain: tuple[str, ...] | None) -> None:
        """A `@task` method called on an object the walk cannot tie to its class."""
        cls = self.mod.task_methods().get(func.attr)
        if cls is None:
            return
        self.fail(
            f"cannot resolve the @task method {func.attr!r} of class {cls.name!r}: "
            "the object it is called on is not known to be one",
            func,
            hint=f"call it on `{cls.name}(...)` or on a variable assigned `{cls.name}(...)` "
            "in this function",
        )

    def _check_computed(self, func: ast.expr) -> None:
        """A computed callee (`getattr(mod, name)(x)`, `handlers[k](x)`) may be a task that
        the spec cannot name: the spec is approximate."""
        if isinstance(func, (ast.Call, ast.Subscript)):
            self.warn(
                "the called function is computed: if it is a task or a flow, its call is "
                "not in the spec",
                func,
                hint="call tasks directly by name",
            )

    # -- helper frames ----------------------------------------------------------------------
    def enter(
        self,
        callee: Callee,
        site: ast.AST,
        positional: list[tuple[Deps, ast.expr]],
        keywords: list[tuple[str | None, Deps, ast.expr]],
        *,
        everything: Deps | None = None,
    ) -> Deps:
        """Walk a helper as a frame of its own; what its return value carries."""
        fn = callee.fn
        assert fn is not None
        every_arg = frozenset().union(*(d for d, _ in positional), *(d for _, d, _ in keywords))
        name = getattr(fn, "name", "<lambda>")
        if id(fn) in self.stack:
            self.warn(
                f"recursive call of {name!r} cut off: the tasks of its inner calls are "
                "counted once",
                site,
            )
            return every_arg | (everything or EMPTY)
        if len(self.stack) >= MAX_DEPTH:
            self.warn(f"helper calls nest deeper than {MAX_DEPTH}: {name!r} is not followed", site)
            return every_arg | (everything or EMPTY)
        if self.graph.frames >= MAX_FRAMES:
            self.warn(f"more than {MAX_FRAMES} helper calls: {name!r} is not followed", site)
            return every_arg | (everything or EMPTY)
        self.graph.frames += 1
        owner = callee.owner or self.mod
        module_as = self.module_as if owner is self.mod else callee.module
        frame = type(self)(
            owner,
            fn,
            self.graph,
            path=(*self.path, id(site)),
            stack=(*self.stack, id(fn)),
            module_as=module_as,
            closure=callee.closure,
        )
        bound = bind_params(fn, positional, keywords, everything)
        for param, deps in bound.items():
            frame.assign(param, deps)
        frame.walk_body()
        self._mutated_args(frame, fn, bound, positional, keywords)
        if callee.closure is not None:
            for outer in frame.outer_names:
                before = callee.closure.env.get(outer, EMPTY)
                if outer in frame.env and not frame.env[outer] <= before:
                    callee.closure.put(outer, before | frame.env[outer])
        return frozenset(frame.returns)

    def _mutated_args(
        self,
        frame: CallSites,
        fn: Fn,
        bound: dict[str, Deps],
        positional: list[tuple[Deps, ast.expr]],
        keywords: list[tuple[str | None, Deps, ast.expr]],
    ) -> None:
        """A helper that fills an argument (`acc.append(t(x))`) fills the caller's object."""
        if isinstance(fn, ast.Lambda):
            return
        rebound = _names_of(frame.mod, fn, params=False)
        params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        pairs: list[tuple[str, ast.expr]] = [
            (p, node) for p, (_, node) in zip(params, positional, strict=False)
        ]
        pairs += [(k, node) for k, _, node in keywords if k is not None]
        for param, node in pairs:
            if param in rebound or isinstance(node, ast.Starred):
                continue
            extra = frame.env.get(param, EMPTY) - bound.get(param, EMPTY)
            if extra:
                for name in self.refs(node):
                    self.mutate(name, extra)


def _names_of(mod: ModuleInfo, fn: Fn, *, params: bool) -> set[str]:
    """`local_names` of a function, memoised on its module (a helper is walked per call)."""
    key = (id(fn), params)
    found = mod.local_cache.get(key)
    if found is None:
        names = param_names(fn) if isinstance(fn, ast.Lambda) else local_names(fn, params=params)
        found = mod.local_cache[key] = frozenset(names)
    return set(found)
