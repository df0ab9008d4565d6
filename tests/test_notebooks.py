"""The notebooks the site offers (``_ext/notebooks.py``) and the ``notebooks`` branch that Colab and
Binder open (``tools/build.py``), without a build: the install cell and Binder's environment."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "_ext"))
sys.path.insert(0, str(REPO / "tools"))

import build  # noqa: E402  (tools/build.py)
import notebooks  # noqa: E402  (_ext/notebooks.py)

SHA = "0123456789abcdef0123456789abcdef01234567"
APP = SimpleNamespace(config=SimpleNamespace(
    html_theme_options={"repository_url": "https://github.com/mecanismos-de-atencion/mecanismos-de-atencion"},
    bilingual_language="es"))


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("speech", [False, True])
def test_install_cell_is_python_and_pins_the_commit(lang, speech):
    source = notebooks.install_source(APP, lang, SHA, speech)
    tree = ast.parse(source)  # valid Python
    assert f'COMMIT = "{SHA}"' in source
    repository = APP.config.html_theme_options["repository_url"]
    assert f'LIBRARY = f"atencion @ git+{repository}@{{COMMIT}}"' in source
    assert '"--no-deps", LIBRARY' in source  # a hosted service keeps its own PyTorch
    needed = next(node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                  and getattr(node.targets[0], "id", "") == "NEEDED")
    assert ast.literal_eval(needed) == notebooks.requirements()
    assert ("espeak-ng" in source) == speech


def test_requirements_are_the_library_dependencies_and_myst_nb():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    needed = notebooks.requirements()
    assert set(needed.values()) == set(project["dependencies"]) | {
        s for s in project["optional-dependencies"]["book"] if s.startswith("myst-nb")}
    assert needed["sklearn"].startswith("scikit-learn") and needed["myst_nb"].startswith("myst-nb")


def test_binder_installs_every_dependency_the_install_cell_checks():
    """On Binder the install cell should only have atencion to install: requirements.txt pins every
    distribution the cell checks for."""
    checked = {re.match(r"[A-Za-z0-9_.-]+", spec).group().lower() for spec in notebooks.requirements().values()}
    assert checked == {name.lower() for name in build.BINDER_PACKAGES}


def test_notebooks_branch_tree(tmp_path):
    site = tmp_path / "html"
    for lang in ("es", "en"):
        (site / lang / "_notebooks").mkdir(parents=True)
        (site / lang / "_notebooks" / "01-x.ipynb").write_text("{}", encoding="utf-8")
    target = tmp_path / "notebooks"
    build.notebooks_branch(site, target, SHA)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "README.md", "apt.txt", "en/01-x.ipynb", "es/01-x.ipynb", "requirements.txt", "runtime.txt"]
    requirements = (target / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "--index-url https://download.pytorch.org/whl/cpu" in requirements
    constraints = (REPO / "requirements" / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pinned = [line for line in requirements if "==" in line]
    assert pinned and all(line in constraints for line in pinned)
    assert (target / "runtime.txt").read_text().strip() == "python-3.11"
    assert "espeak-ng" in (target / "apt.txt").read_text()
    assert SHA in (target / "README.md").read_text()


def test_pins_names_what_constraints_lack(tmp_path):
    constraints = tmp_path / "c.txt"
    constraints.write_text("torch==2.13.0\n# numpy==1\n", encoding="utf-8")
    assert build.pins(["torch"], constraints) == ["torch==2.13.0"]
    with pytest.raises(ValueError, match="numpy"):
        build.pins(["torch", "numpy"], constraints)
