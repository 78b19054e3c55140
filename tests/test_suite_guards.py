"""Guards on the suite itself: no hang can stall CI (DESIGN.md, "Tests")."""

import ast
import pathlib

TESTS = pathlib.Path(__file__).parent
WAITING_CALLS = {"run", "check_output", "check_call", "call", "communicate", "wait"}


def _unguarded_waits(source: str, where: str = "<source>"):
    """`where:line` of each wait in `source` that could hang without a limit: a `subprocess.run(...)`-style
    call or `proc.communicate()/wait()` with no `timeout=` or with `timeout=None`; `os.system(...)` (it
    takes no timeout); and `from subprocess import ...` of a waiting call (a bare `run(...)` hides its owner)."""
    for node in ast.walk(ast.parse(source, filename=where)):
        if isinstance(node, ast.ImportFrom) and node.module == "subprocess":
            if any(alias.name in WAITING_CALLS | {"Popen"} for alias in node.names):
                yield f"{where}:{node.lineno} (from subprocess import: call subprocess.<name> instead)"
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, owner = node.func.attr, node.func.value
        owner_name = owner.id if isinstance(owner, ast.Name) else None
        if owner_name == "os" and name == "system":
            yield f"{where}:{node.lineno} (os.system takes no timeout: use subprocess.run(..., timeout=...))"
            continue
        is_subprocess = owner_name == "subprocess" and name in WAITING_CALLS
        is_process_wait = name in ("communicate", "wait") and owner_name not in ("subprocess", "os")
        if not (is_subprocess or is_process_wait):
            continue
        timeout = next((k.value for k in node.keywords if k.arg == "timeout"), None)
        if timeout is None:
            yield f"{where}:{node.lineno} (no timeout=)"
        elif isinstance(timeout, ast.Constant) and timeout.value is None:
            yield f"{where}:{node.lineno} (timeout=None)"


def test_every_subprocess_a_test_starts_has_a_timeout():
    offenders = [where for path in sorted(TESTS.rglob("*.py"))
                 for where in _unguarded_waits(path.read_text(), str(path.relative_to(TESTS.parent)))]
    assert not offenders, f"waits without a limit (a hang would stall CI): {offenders}"


def test_the_guard_flags_each_way_a_wait_can_go_unlimited():
    """Each snippet hides one unlimited wait; the guard must name its line. The last one is fine."""
    flagged = {
        "import subprocess\nsubprocess.run(['ls'])": "no timeout=",
        "import subprocess\nsubprocess.check_output(['ls'], timeout=None)": "timeout=None",
        "from subprocess import run\nrun(['ls'], timeout=5)": "from subprocess import",
        "import os\nos.system('ls')": "os.system",
        "import subprocess\np = subprocess.Popen(['ls'])\np.communicate()": "no timeout=",
        "import subprocess\np = subprocess.Popen(['ls'])\np.wait(timeout=None)": "timeout=None",
    }
    for source, reason in flagged.items():
        found = list(_unguarded_waits(source))
        assert len(found) == 1 and reason in found[0], (source, found)
    assert not list(_unguarded_waits("import subprocess\nsubprocess.run(['ls'], timeout=30)"))


def test_the_suite_has_a_per_test_time_limit(request):
    assert request.config.pluginmanager.hasplugin("timeout"), "pytest-timeout is not installed"
    limit = float(request.config.getini("timeout"))
    assert 0 < limit <= 900, f"per-test timeout is {limit} s"


def test_every_listed_mutant_still_applies_at_exactly_one_place():
    """A mutant whose `old` text no longer occurs exactly once in its file (the code moved on) cannot be
    applied, and the mutation score would silently cover less than its list says."""
    from tests.mutation.__main__ import ROOT, load_mutants

    stale = [f"{m.name} ({m.file})" for m in load_mutants() if (ROOT / m.file).read_text().count(m.old) != 1]
    assert not stale, f"update these mutants to the code: {', '.join(stale)}"
