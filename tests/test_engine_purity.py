"""The decision core is pure: no ORM, no HTTP, no broker, no settings and no clock in the
modules ``decide`` is made of (the runner, its ORM side, lives in ``telnyx_ivr/calls/``).
Read from the source, so an import added inside a function counts too."""

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "engine"
PURE = ["core.py", "render.py", "routing.py", "state.py", "schedule.py"]
FORBIDDEN_MODULES = ("django.db", "django.conf", "requests", "celery", "time", "urllib")
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def imported(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_every_module_of_the_engine_package_is_checked():
    # The ORM-and-network side of a call lives in telnyx_ivr/calls/ (runner.py): the engine
    # package is the pure core alone, so a module added to it is checked here too.
    assert sorted(p.name for p in ENGINE.glob("*.py") if p.name != "__init__.py") == sorted(PURE)


@pytest.mark.parametrize("name", PURE)
def test_a_core_module_imports_no_orm_http_broker_settings_or_clock(name):
    tree = ast.parse((ENGINE / name).read_text())
    bad = [
        module
        for module in imported(tree)
        if any(module == f or module.startswith(f + ".") for f in FORBIDDEN_MODULES)
    ]
    assert bad == []


@pytest.mark.parametrize("name", PURE)
def test_a_core_module_reads_no_clock(name):
    tree = ast.parse((ENGINE / name).read_text())
    calls = [
        f"line {node.lineno}: .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
    ]
    assert calls == []
