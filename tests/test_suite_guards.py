"""Guards on the suite itself: no hang can stall CI (DESIGN.md, "Tests")."""

import ast
import pathlib

TESTS = pathlib.Path(__file__).parent
WAITING_CALLS = {"run", "check_output", "check_call", "call", "communicate", "wait"}


def _calls_without_timeout(path: pathlib.Path):
    """`subprocess.run(...)`-style calls and `proc.communicate()/wait()` in `path` with no timeout."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, owner = node.func.attr, node.func.value
        is_subprocess = isinstance(owner, ast.Name) and owner.id == "subprocess" and name in WAITING_CALLS
        is_process_wait = name in ("communicate", "wait") and not (isinstance(owner, ast.Name)
                                                                    and owner.id in ("subprocess", "os"))
        if (is_subprocess or is_process_wait) and not any(k.arg == "timeout" for k in node.keywords):
            yield f"{path.relative_to(TESTS.parent)}:{node.lineno}"


def test_every_subprocess_a_test_starts_has_a_timeout():
    offenders = [where for path in sorted(TESTS.rglob("*.py")) for where in _calls_without_timeout(path)]
    assert not offenders, f"subprocess calls without timeout= (a hang would stall CI): {offenders}"


def test_the_suite_has_a_per_test_time_limit(request):
    assert request.config.pluginmanager.hasplugin("timeout"), "pytest-timeout is not installed"
    limit = float(request.config.getini("timeout"))
    assert 0 < limit <= 900, f"per-test timeout is {limit} s"

