"""Hashes of Python source that change with the code and not with its documentation."""

import ast
import hashlib
import inspect
import textwrap


def without_docstrings(source: str | bytes) -> bytes:
    """Return the dumped syntax tree of `source` with every docstring dropped.

    Comments never reach the tree, so edits to comments and docstrings leave the result unchanged.
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def class_sha256(cls: type) -> str:
    """Return the sha256 hex digest of `cls`'s source without docstrings or comments."""
    return hashlib.sha256(without_docstrings(textwrap.dedent(inspect.getsource(cls)))).hexdigest()
