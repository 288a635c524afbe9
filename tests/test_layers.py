"""Imports run one way: dashboards → consultations, feedback → plans →
authorities (README, "What lives where"). An app may import its own floor and
those below it, never one above or beside it, and no two modules import each
other, however indirectly. Imports inside functions count: a late import
still ties the two apps together, it only hides it from Python."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each app and the apps it may import. consultations and feedback share a
# floor and stay out of each other's way.
FLOORS = {
    "authorities": set(),
    "plans": {"authorities"},
    "consultations": {"plans", "authorities"},
    "feedback": {"plans", "authorities"},
    # official links its figures as checklist evidence (official/views.py).
    "official": {"plans", "authorities"},
    "dashboards": {"consultations", "feedback", "official", "plans", "authorities"},
}


def modules():
    """Every project module outside tests and migrations, by dotted name."""
    for app in FLOORS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imported(name, path):
    """The project modules `name` imports, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found.add(base)
            # `from . import views` imports the module views.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module.split(".")[0] in FLOORS}


GRAPH = {name: imported(name, path) for name, path in modules()}


def _known(module):
    """`module`, or the package it names an attribute of."""
    while module and module not in GRAPH:
        module = module.rpartition(".")[0]
    return module


def test_no_app_imports_one_above_or_beside_it():
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if (app := name.split(".")[0]) != (other := target.split(".")[0])
        and other not in FLOORS[app]
    )
    assert not upward


def test_no_two_modules_import_each_other():
    edges = {
        name: {_known(target) for target in targets} - {name, ""}
        for name, targets in GRAPH.items()
    }
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            # A package's __init__ is imported with any of its modules.
            if target.startswith(f"{node}."):
                continue
            if state.get(target) == "open":
                cycles.append(" → ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from plans.models import Plan", {"plans.models", "plans.models.Plan"}),
        ("def f():\n    from dashboards import views", {"dashboards", "dashboards.views"}),
        ("import feedback.aggregates", {"feedback.aggregates"}),
        ("from django.db import models", set()),
    ],
)
def test_the_walk_sees_every_kind_of_import(tmp_path, source, expected):
    path = tmp_path / "module.py"
    path.write_text(source)
    assert imported("authorities.module", path) == expected


def test_the_walk_resolves_relative_imports(tmp_path):
    path = tmp_path / "views.py"
    path.write_text("from .models import Plan\nfrom ..authorities import models")
    assert imported("plans.views", path) >= {"plans.models", "authorities.models"}
