"""The engine's layout, as issue 15 set it: small modules of one job each, pytest's private API
in one module, nothing outside the package reaching into its private parts, and a root
conftest.py that only wires."""

import ast
import re
from pathlib import Path

import pytest

from tests.support.project import ROOT, SRC

PACKAGE = SRC / "pytest_pages"
MODULES = sorted(PACKAGE.glob("*.py"))
#: "None over about 150 lines": the longest, transport.py, sends a request two ways.
MOST_LINES = 170


def imported(path: Path) -> set[str]:
    """Every module a file imports, by its full dotted name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_each_module_is_small(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MOST_LINES, f"{module.name}: {lines} lines"


def test_pytests_private_api_is_used_in_one_module_only() -> None:
    users = {m.name for m in MODULES if any(n.startswith("_pytest") for n in imported(m))}
    assert users == {"_pytest_private.py"}


def test_nothing_outside_the_package_imports_its_private_modules() -> None:
    private = re.compile(r"^pytest_pages\._")
    outside = [
        path
        for path in ROOT.rglob("*.py")
        if not path.is_relative_to(PACKAGE)
        and not any(part.startswith(".") or part == "node_modules" for part in path.parts)
    ]
    reaching = [p for p in outside if any(private.match(name) for name in imported(p))]
    assert reaching == []


def test_the_root_conftest_only_wires() -> None:
    """Imports, `pytest_plugins`, and hooks of a statement or two that call into other modules:
    no logic, no classes, no helpers of its own."""
    tree = ast.parse((ROOT / "conftest.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Assign):
            assert [ast.unparse(t) for t in node.targets] == ["pytest_plugins"]
            continue
        assert isinstance(node, ast.FunctionDef), ast.unparse(node)
        assert node.name.startswith("pytest_"), node.name
        body = [n for n in node.body if not isinstance(n, ast.Expr | ast.Pass)]
        calls = [n for n in node.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
        assert not body, f"{node.name} holds more than calls: {ast.unparse(body[0])}"
        assert len(calls) <= 2, f"{node.name} makes {len(calls)} calls"
