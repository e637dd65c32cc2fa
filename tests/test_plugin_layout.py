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
    tree = ast.parse((ROOT / "conftest.py").read_text(encoding="utf-8"))
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert all(name.startswith("pytest_") for name in functions), functions
    assert not [node for node in tree.body if isinstance(node, ast.ClassDef)]
