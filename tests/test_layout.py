"""The library's layout: one concept per module, argument checks from one place,
data that imports no model code, no module reaching into another's private names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "atencion"
MODULES = sorted(p for p in SRC.rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_module_imports_another_modules_private_names(path):
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__all__"
    ]
    assert not private, f"{path.name} imports private names: {private}"


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "_checks.py"],
                         ids=lambda p: p.relative_to(SRC).as_posix())
def test_argument_checks_come_from_checks(path):
    tree = _tree(path)
    # (a method that checks inputs against its module's own configuration may stay in its class)
    local = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("_check")]
    assert not local, f"{path.name} defines its own checks {local}: put them in _checks.py"
    source = path.read_text(encoding="utf-8")
    assert "isinstance(" not in source or " bool) or not isinstance(" not in source, (
        f"{path.name} checks an int inline: use _checks.check_int / check_int_type"
    )


def test_data_imports_no_model_code():
    code = "import sys, atencion.data; print(sorted(m for m in sys.modules if m.startswith('atencion')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out.strip()))
    assert loaded <= {"atencion", "atencion._checks"} | {m for m in loaded if m.startswith("atencion.data")}, loaded


def test_multi_head_forward_is_short():
    """The readable forward pass stays readable: masks merged by one helper, kernels in functional."""
    tree = _tree(SRC / "heads.py")
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MultiHeadAttention")
    forward = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "forward")
    assert forward.end_lineno - forward.lineno + 1 <= 45
