"""`train/` imports one way: no module reaches itself through the imports of the package,
counting the ones inside functions (an evaluator that imports the training loop closes a circle
even when the import is deferred), and `train` leaves `interpret` to be imported by those who use it."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).parent.parent.parent


def _modules(package: str) -> dict[str, pathlib.Path]:
    paths = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return paths


def _imports(name: str, path: pathlib.Path, modules) -> list[tuple[str, bool]]:
    """`(module, at_top_level)` for every import in `path` of a module in `modules`: `from a
    import b` counts as importing `a.b` when that is a module, else `a`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + [base] * bool(base))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.append((target, id(node) in top))
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` as a path `[a, b, ..., a]`, or None (depth-first search)."""
    state, path = {}, []

    def visit(node):
        state[node], path[len(path):] = "open", [node]
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_train_has_no_import_cycle():
    modules = _modules("train")
    graph = {name: {target for target, _ in _imports(name, path, modules)} for name, path in modules.items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle in train/: " + " -> ".join(cycle)


def test_train_does_not_import_interpret_at_module_level():
    modules = {**_modules("train"), **_modules("interpret")}
    for name, path in modules.items():
        if name.startswith("train"):
            top = [t for t, at_top in _imports(name, path, modules) if at_top and t.startswith("interpret")]
            assert not top, f"{name} imports {top[0]} at module level"
