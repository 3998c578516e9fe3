"""What `make grade` looks for in a submission that touches the checks: static and at run time.

A student's code runs in the kernel that runs the checks, so no in-kernel grader can rule out that
it changes them (nbgrader and otter-grader say the same of theirs); the grader makes the attempt
visible instead, and never takes points from the kernel. ``scan`` reads the code's AST for what
reaches into ``gdlessons`` or into what the report is made with; ``graded_cell`` replaces a check
cell: it digests every ``gdlessons`` module before and after calling the check, and prints the
digests and the verdict's status on a line that starts with the grader's secret nonce; ``changed``
compares them with the grader's own digests.

>>> scan(["from gdlessons import check", "check.ex01_1 = print"])
['cell 2, line 1: assigns to check.ex01_1, which belongs to gdlessons']
>>> scan(["import gdlessons.check as c"])
['cell 1, line 1: imports gdlessons.check under another name (c)']
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import json
from collections.abc import Iterator

__all__ = ["changed", "digests", "graded_cell", "read_report", "scan"]

_SANCTIONED = {"gdlessons": "gdlessons", "gdlessons.check": "check"}
_LOW_LEVEL = {"importlib", "ctypes", "gc"}
_REACHING = {"setattr", "delattr", "vars", "__import__", "globals", "exec", "eval"}
# What the grader's report in the kernel is made with: replacing a part of them could forge it.
_REPORTING = {"builtins", "__builtins__", "sys", "json", "io", "importlib", "hashlib"}
_DUNDERS = {"__dict__", "__code__", "__globals__", "__closure__", "__defaults__", "__kwdefaults__"}


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _findings(node: ast.AST, bound: set[str]) -> Iterator[str]:
    """What one node does to gdlessons; ``bound``: the names holding something of it."""
    if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _LOW_LEVEL:
        yield f"imports from {node.module}"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        prefix = f"{node.module or ''}." if isinstance(node, ast.ImportFrom) else ""
        for alias in node.names:
            full = prefix + alias.name
            if not prefix and full in _LOW_LEVEL:
                yield f"imports {full}"
            if full.split(".")[0] != "gdlessons":
                continue
            if full.startswith("gdlessons.check."):
                yield f"imports the checks' internals ({full})"
            elif alias.asname and alias.asname != _SANCTIONED.get(full):
                if not prefix or full in _SANCTIONED:  # `from gdlessons import plots as p`: fine
                    yield f"imports {full} under another name ({alias.asname})"
            bound.add(alias.asname or (alias.name if prefix else "gdlessons"))
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        verb = "deletes" if isinstance(node, ast.Delete) else "assigns to"
        targets = list(getattr(node, "targets", None) or [node.target])
        while targets:
            target = targets.pop(0)
            if isinstance(target, (ast.Tuple, ast.List)):
                targets += target.elts
            elif isinstance(target, (ast.Attribute, ast.Subscript)) and _root(target) in bound:
                yield f"{verb} {ast.unparse(target)}, which belongs to gdlessons"
            elif isinstance(target, ast.Attribute) and _root(target) in _REPORTING:
                yield f"{verb} {ast.unparse(target)}, which the grader's report uses"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
        name, first = node.func.id, ast.unparse(node.args[0])
        if name in _REACHING and _root(node.args[0]) in bound:
            yield f"calls {name} on {first}, which belongs to gdlessons"
        elif name in ("setattr", "delattr") and _root(node.args[0]) in _REPORTING:
            yield f"calls {name} on {first}, which the grader's report uses"
    if isinstance(node, ast.Attribute):
        if node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
            yield "reaches into sys.modules"
        elif node.attr in _DUNDERS and _root(node) in bound:
            yield f"reaches into {ast.unparse(node)}, which belongs to gdlessons"
    if isinstance(node, ast.Constant) and str(node.value).split(".")[0] == "gdlessons":
        yield f"names the module {node.value!r} in a string"


def scan(sources: list[str]) -> list[str]:
    """What the code cells ``sources`` do to ``gdlessons``, one line each (empty: nothing)."""
    from IPython.core.inputtransformer2 import TransformerManager

    bound, found = set(), []  # the names that hold something of gdlessons; what they do
    for number, source in enumerate(sources, 1):
        try:
            tree = ast.parse(TransformerManager().transform_cell(source))
        except (SyntaxError, ValueError):
            continue  # it does not run either: the kernel says so in that cell
        imports_first = sorted(
            ast.walk(tree), key=lambda n: not isinstance(n, ast.Import | ast.ImportFrom)
        )
        said = [
            (getattr(n, "lineno", 0), what) for n in imports_first for what in _findings(n, bound)
        ]
        found += [f"cell {number}, line {line}: {what}" for line, what in sorted(said)]
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
        closure = value.__closure__ if depth > 0 else None  # depth ends a closure holding itself
        cells = [_describe(c.cell_contents, depth - 1) for c in closure or ()]
        code = _describe(value.__code__) + repr(cells) + _describe(value.__defaults__, depth - 1)
        return f"function {value.__module__}.{value.__qualname__} {value.__name__} {code}"
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
        out[name] = f"module {getattr(module, '__file__', None)}" if module else "missing"
        for key, value in vars(module).items() if module else ():
            if not key.startswith("__") and not isinstance(value, type(sys)):  # not submodules
                text = _describe(value).encode("utf-8", "backslashreplace")
                out[f"{name}.{key}"] = hashlib.sha256(text).hexdigest()[:16]
    return out


def _graded(nonce, name, modules, call, last):  # noqa: ANN001, ANN202 - sent as source
    """Run one check through sys.modules between digests; report on the nonce's line."""
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
    out = {}
    for when, seen in (("", report.get("before")), (" (during the check)", report.get("after"))):
        for key in sorted(set(seen) | set(own)) if seen else []:  # none: not measured
            if key not in own:
                out.setdefault(key, f"{key} (added)")
            elif seen.get(key) != own[key]:
                out.setdefault(key, f"{key}{when}" if key in seen else f"{key} (removed)")
    return list(out.values())


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
        with contextlib.suppress(ValueError):
            found = json.loads(line[len(nonce) :])
            report = found if isinstance(found, dict) else report
    return report, "".join(kept)
