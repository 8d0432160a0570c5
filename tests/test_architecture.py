"""The layers hold: which module may import what, and no module-level import cycle.

Read from the source with ``ast`` (nothing is imported): an import inside ``if TYPE_CHECKING:`` is for the type
checker only and never runs, so it is allowed where a run-time import is not. An import inside a function runs
when the function does, so it counts for the layer rules; it does not count for cycles (it runs after every
module has loaded, which is how heavy modules stay lazy).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "ecs_overlay"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted: ecs_overlay.app.render
    target: str  # what it imports, dotted: click, botocore.session, ecs_overlay.base
    line: int
    top_level: bool  # runs when the module is imported (not inside a function)
    type_checking: bool  # inside `if TYPE_CHECKING:`: never runs


def module_name(path: Path) -> str:
    parts = ["ecs_overlay", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, source: str | None = None) -> Iterator[Import]:
    """Every import statement of one module, resolved to dotted names (``from . import x`` names the submodule)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    modules = set(all_modules())

    def visit(node: ast.AST, top_level: bool, type_checking: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, top_level, True)
            for child in node.orelse:
                yield from visit(child, top_level, type_checking)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, top_level, type_checking)
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                target = submodule if submodule in modules else origin
                yield Import(module, target, node.lineno, top_level, type_checking)
            return
        inside_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            yield from visit(child, top_level and not inside_function, type_checking)

    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    yield from visit(tree, True, False)


@functools.cache
def all_modules() -> dict[str, Path]:
    """The package's modules, read once per run (the source does not change under the tests; callers only read)."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def all_imports() -> list[Import]:
    return list(_package_imports())


@functools.cache
def _package_imports() -> tuple[Import, ...]:
    return tuple(found for path in all_modules().values() for found in imports_of(path))


def _layer(module: str) -> str:
    if module == "ecs_overlay.cli":
        return "cli"
    if module == "ecs_overlay.app" or module.startswith("ecs_overlay.app."):
        return "app"
    if module == "ecs_overlay.report" or module.startswith("ecs_overlay.report."):
        return "report"
    return "core"


def _is(target: str, *names: str) -> bool:
    return any(target == name or target.startswith(name + ".") for name in names)


def contract_breaches(imports: list[Import]) -> list[str]:
    """Each run-time import a layer may not make, as ``module:line imports target (why)``."""
    breaches = []
    for found in imports:
        if found.type_checking:
            continue
        layer = _layer(found.module)
        why = None
        if _is(found.target, "click") and layer != "cli":
            why = "only cli.py imports click"
        elif _is(found.target, "botocore", "boto3") and found.module != "ecs_overlay.aws":
            why = "only aws.py imports botocore"
        elif _is(found.target, "ecs_overlay.app") and layer in ("core", "report"):
            why = f"the {layer} layer never imports the application layer"
        elif _is(found.target, "ecs_overlay.cli") and found.module != "ecs_overlay.cli":
            why = "nothing imports the command line"
        if why:
            breaches.append(f"{found.module}:{found.line} imports {found.target} ({why})")
    return breaches


def import_cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected groups of modules in the graph of module-level (import-time) imports."""
    modules = all_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for found in imports:
        if found.top_level and not found.type_checking and found.target in modules and found.target != found.module:
            graph[found.module].add(found.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm; the graph is small enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        for following in sorted(graph[node]):
            if following not in index:
                connect(following)
                low[node] = min(low[node], low[following])
            elif following in stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return cycles


def test_each_layer_imports_only_what_it_may() -> None:
    assert contract_breaches(all_imports()) == []


def test_no_module_level_import_cycle() -> None:
    assert import_cycles(all_imports()) == []


def reachable(imports: list[Import], start: str) -> set[str]:
    """Every module ``start`` may load at run time, through imports at any level (lazy ones too)."""
    modules = all_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for found in imports:
        if not found.type_checking and found.target in modules and found.target != found.module:
            graph[found.module].add(found.target)
    seen: set[str] = set()
    pending = [start]
    while pending:
        for following in graph[pending.pop()] - seen:
            seen.add(following)
            pending.append(following)
    return seen


def test_nothing_the_base_stage_builds_on_reaches_back_to_it() -> None:
    """base.py reads the base with merge, overlay and schemas; none of them may load base.py again, not even
    lazily (the base → merge → overlay → schemas → base cycle ran through a function-level import)."""
    imports = all_imports()
    modules = all_modules()
    below = {
        found.target
        for found in imports
        if found.module == "ecs_overlay.base" and found.top_level and found.target in modules
    }
    assert {"ecs_overlay.merge", "ecs_overlay.schemas"} <= below
    assert [module for module in sorted(below) if "ecs_overlay.base" in reachable(imports, module)] == []


def test_the_application_layer_is_there_and_checked() -> None:
    """The rules above are not vacuous: the layers they name exist and import each other as they should."""
    layers = {_layer(module) for module in all_modules()}
    assert {"cli", "app", "report", "core"} <= layers
    cli = [found.target for found in all_imports() if found.module == "ecs_overlay.cli"]
    assert any(_is(target, "ecs_overlay.app") for target in cli)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("base.py", "import click\n", "ecs_overlay.base:1 imports click (only cli.py imports click)"),
        (
            "schemas.py",
            "def f():\n    import botocore.session\n",
            "ecs_overlay.schemas:2 imports botocore.session (only aws.py imports botocore)",
        ),
        (
            "merge.py",
            "from .app import render\n",
            "ecs_overlay.merge:1 imports ecs_overlay.app.render (the core layer never imports the application layer)",
        ),
        (
            "report/reporters.py",
            "from ..app import diff\n",
            "ecs_overlay.report.reporters:1 imports ecs_overlay.app.diff "
            "(the report layer never imports the application layer)",
        ),
        ("app/render.py", "import click\n", "ecs_overlay.app.render:1 imports click (only cli.py imports click)"),
    ],
)
def test_a_forbidden_import_is_caught(module: str, source: str, expected: str) -> None:
    assert contract_breaches(list(imports_of(PACKAGE / module, source))) == [expected]


def test_a_type_checking_import_is_allowed() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..app.diff import DiffRun\n"
    assert contract_breaches(list(imports_of(PACKAGE / "report" / "reporters.py", source))) == []


def test_a_cycle_is_found() -> None:
    """base → merge at module level, and merge → base back: the cycle the test exists to keep out."""
    imports = [*all_imports(), Import("ecs_overlay.merge", "ecs_overlay.base", 1, True, False)]
    assert any({"ecs_overlay.base", "ecs_overlay.merge"} <= set(cycle) for cycle in import_cycles(imports))
