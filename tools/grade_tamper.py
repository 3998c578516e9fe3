"""What `make grade` looks for in a submission that touches the checks: static and at run time.

A student's code runs in the kernel that runs the checks, so no in-kernel grader can rule out that
it changes them (nbgrader and otter-grader say the same of their own autograders). The grader makes
the attempt visible instead, and never takes points from the kernel:

- ``scan(sources)`` reads the submission's code (the AST, never running it) for imports of the
  checks' internals or of ``gdlessons.check`` under another name, assignments, ``setattr`` or
  ``delattr`` on anything imported from ``gdlessons`` or on what the report is made with
  (``builtins``, ``sys``, ``json``, ...), ``sys.modules``, ``importlib`` and strings naming a
  ``gdlessons`` module;
- ``graded_cell(nonce, name, call)`` is what the grader runs in place of a check cell: it digests
  every ``gdlessons`` module the grader has loaded (each function's code, each class's methods, the
  data: ``digests``), before and after calling the check through ``sys.modules``, and prints the
  digests and the verdict's status on a line that starts with ``nonce``, a secret of the grader's;
- ``changed(report, own)`` compares those digests with the ones the grader computes in its own
  process, from a fresh import.

>>> scan(["from gdlessons import check", "check.ex01_1 = print"])
['cell 2, line 1: assigns to check.ex01_1, which belongs to gdlessons']
>>> scan(["import gdlessons.check as c"])
['cell 1, line 1: imports gdlessons.check under another name (c)']
"""

from __future__ import annotations

import ast
import inspect
import json

__all__ = ["changed", "digests", "graded_cell", "read_report", "scan"]

_SANCTIONED = {"gdlessons": "gdlessons", "gdlessons.check": "check"}
_REACHING = {"setattr", "delattr", "vars", "__import__", "globals", "exec", "eval"}
# What the grader's report in the kernel is made with: replacing a part of them could forge it.
_REPORTING = {"builtins", "__builtins__", "sys", "json", "io", "importlib", "hashlib"}
_DUNDERS = {"__dict__", "__code__", "__globals__", "__closure__", "__defaults__", "__kwdefaults__"}


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.bound: set[str] = set()  # names that hold something of gdlessons
        self.found: list[tuple[int, str]] = []

    def say(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), what))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] != "gdlessons":
                if alias.name in ("importlib", "ctypes", "gc"):
                    self.say(node, f"imports {alias.name}")
                continue
            if alias.name.startswith("gdlessons.check."):
                self.say(node, f"imports the checks' internals ({alias.name})")
            elif alias.asname and _SANCTIONED.get(alias.name) != alias.asname:
                self.say(node, f"imports {alias.name} under another name ({alias.asname})")
            self.bound.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] in ("importlib", "ctypes", "gc"):
            self.say(node, f"imports from {module}")
        if module.split(".")[0] != "gdlessons":
            return
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if module.startswith("gdlessons.check"):
                self.say(node, f"imports the checks' internals ({full})")
            elif full == "gdlessons.check" and alias.asname not in (None, "check"):
                self.say(node, f"imports gdlessons.check under another name ({alias.asname})")
            self.bound.add(alias.asname or alias.name)

    def root(self, node: ast.AST) -> str | None:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    def target(self, node: ast.AST, verb: str) -> None:
        if isinstance(node, (ast.Tuple, ast.List)):
            for item in node.elts:
                self.target(item, verb)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and self.root(node) in self.bound:
            self.say(node, f"{verb} {ast.unparse(node)}, which belongs to gdlessons")
        elif isinstance(node, ast.Attribute) and self.root(node) in _REPORTING:
            self.say(node, f"{verb} {ast.unparse(node)}, which the grader's report uses")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.target(target, "assigns to")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.target(node.target, "assigns to")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.target(target, "deletes")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        first = node.args[0] if node.args else None
        if name in _REACHING and first is not None and self.root(first) in self.bound:
            self.say(node, f"calls {name} on {ast.unparse(first)}, which belongs to gdlessons")
        elif (
            name in ("setattr", "delattr") and first is not None and self.root(first) in _REPORTING
        ):
            self.say(node, f"calls {name} on {ast.unparse(first)}, which the grader's report uses")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
            self.say(node, "reaches into sys.modules")
        elif node.attr in _DUNDERS and self.root(node) in self.bound:
            self.say(node, f"reaches into {ast.unparse(node)}, which belongs to gdlessons")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value.split(".")[0] == "gdlessons":
            self.say(node, f"names the module {node.value!r} in a string")


def scan(sources: list[str]) -> list[str]:
    """What the code cells ``sources`` do to ``gdlessons``, one line each (empty: nothing)."""
    from IPython.core.inputtransformer2 import TransformerManager

    scanner, found = _Scanner(), []
    for number, source in enumerate(sources, 1):
        try:
            tree = ast.parse(TransformerManager().transform_cell(source))
        except (SyntaxError, ValueError):
            continue  # it does not run either: the kernel says so in that cell
        scanner.found = []
        scanner.visit(tree)
        found += [f"cell {number}, line {line}: {what}" for line, what in scanner.found]
    return found


# ---- At run time: digests of gdlessons, computed in the kernel and in the grader alike.
# `digests` and its helpers are sent to the kernel as source: they import only the standard library.


def _describe(value, depth=3):  # noqa: ANN001, ANN202 - sent to the kernel as source
    import types

    if isinstance(value, (bool, int, float, complex, str, bytes, type(None))):
        return repr(value)
    if isinstance(value, (set, frozenset)):  # in an order that no hash seed changes
        return repr(sorted(repr(v) for v in value))
    if isinstance(value, types.ModuleType):
        return "module " + value.__name__
    if isinstance(value, types.CodeType):
        consts = [_describe(c, depth) for c in value.co_consts]
        return repr((value.co_code, value.co_names, value.co_varnames, consts))
    if isinstance(value, types.FunctionType):
        cells = [
            _describe(c.cell_contents, depth - 1) for c in value.__closure__ or () if depth > 0
        ]
        head = f"function {value.__module__}.{value.__qualname__} {value.__name__} "
        return (
            head
            + _describe(value.__code__)
            + repr(cells)
            + _describe(value.__defaults__, depth - 1)
        )
    if isinstance(value, (classmethod, staticmethod)):
        return "method " + _describe(value.__func__, depth)
    if isinstance(value, property):
        return "property " + _describe(value.fget, depth)
    if depth <= 0:
        return "a " + type(value).__qualname__
    if isinstance(value, type):
        own = sorted((k, _describe(v, depth - 1)) for k, v in vars(value).items() if k != "__doc__")
        return f"class {value.__module__}.{value.__qualname__} " + repr(own)
    if isinstance(value, dict):
        return repr(sorted((repr(k), _describe(v, depth - 1)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return repr([_describe(v, depth - 1) for v in value])
    if type(value).__module__ == "numpy":
        return f"array {getattr(value, 'shape', '')} " + repr(getattr(value, "tobytes", str)())
    if type(value).__module__.startswith("gdlessons") and hasattr(value, "__dict__"):
        return f"a {type(value).__qualname__} " + _describe(vars(value), depth - 1)
    return "a " + type(value).__qualname__


def digests(modules):  # noqa: ANN001, ANN201 - sent to the kernel as source
    """{"module.attribute": digest} of every attribute of each module loaded (or "missing")."""
    import hashlib
    import sys

    out = {}
    for name in modules:
        module = sys.modules.get(name)
        if module is None:
            out[name] = "missing"
            continue
        out[name] = "module " + str(getattr(module, "__file__", None))
        for key, value in vars(module).items():
            if not key.startswith("__") and not isinstance(value, type(sys)):  # not submodules
                text = _describe(value).encode("utf-8", "backslashreplace")
                out[f"{name}.{key}"] = hashlib.sha256(text).hexdigest()[:16]
    return out


def _graded(nonce, name, modules, call, last):  # noqa: ANN001, ANN202 - sent as source
    """Run one check through sys.modules after a digest (and one after it, for the last check);
    report on the nonce's line."""
    import importlib
    import json as _json

    report = {"name": name, "status": "fail", "note": "the check returned no verdict"}
    try:
        checks = importlib.import_module("gdlessons.check")  # the module, whatever `check` is now
    except BaseException as err:  # noqa: BLE001 - gone from sys.modules, or broken
        report["note"] = f"gdlessons.check cannot be imported ({type(err).__name__})"
        print(nonce + _json.dumps(report))
        return
    report["before"] = digests(modules)
    try:
        verdict = call(checks)
        if getattr(verdict, "status", None) in ("pass", "fail", "todo"):
            report["status"], report["note"] = verdict.status, ""
    except BaseException as err:  # noqa: BLE001 - a check only raises when something broke it
        report["note"] = f"the check raised {type(err).__name__}"
    if last:  # a change made during an earlier check shows in the next one's digest
        report["after"] = digests(modules)
    print(nonce + _json.dumps(report))


_PROBE = "\n\n".join(inspect.getsource(f) for f in (_describe, digests, _graded))


def graded_cell(nonce: str, name: str, call: str, modules: list[str], last: bool) -> str:
    """The source the grader runs for the check cell ``call`` (``check.ex01_1(my_gradient)``)."""
    lambda_ = "lambda check: " + call.strip()
    return (
        f"_grader = {{}}\nexec({_PROBE!r}, _grader)\n"
        f"_grader['_graded']({nonce!r}, {name!r}, {modules!r}, {lambda_}, {last})\ndel _grader"
    )


def changed(report: dict, own: dict) -> list[str]:
    """What differs from the grader's own digests, before or during the check.

    >>> changed({"before": {"m.f": "1"}, "after": {"m.f": "2", "m.g": "3"}}, {"m.f": "1"})
    ['m.f (during the check)', 'm.g (added)']
    """
    out = []
    for when, seen in (
        ("", report.get("before", {})),
        (" (during the check)", report.get("after", {})),
    ):
        for key in sorted(set(seen) | set(own)) if seen else []:  # empty: not measured
            if key not in own:
                what = f"{key} (added)"
            elif seen.get(key) != own[key]:
                what = f"{key}{when}" if key in seen else f"{key} (removed)"
            else:
                continue
            if not any(line.startswith(key) for line in out):
                out.append(what)
    return out


def read_report(text: str, nonce: str) -> tuple[dict, str]:
    """The report on the nonce's line of ``text`` (empty if none), and ``text`` without it.

    >>> read_report("✓ right\\nN{\\"status\\": \\"pass\\"}\\n", "N")
    ({'status': 'pass'}, '✓ right\\n')
    """
    report, kept = {}, []
    for line in text.splitlines(keepends=True):
        if not line.startswith(nonce):
            kept.append(line)
            continue
        try:
            found = json.loads(line[len(nonce) :])
        except ValueError:
            found = None
        report = found if isinstance(found, dict) else report
    return report, "".join(kept)
