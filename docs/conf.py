"""Sphinx configuration of the jaxzoo documentation (`sphinx-build -W --keep-going -b html docs docs/_build/html`).

Before the build, `docs/_generated/` is written from the code: the recipes page from the recipes' own
docstrings, the reproductions page from `docs/reproductions.json`, one API page per package listing its
`__all__`; and the notebooks are copied into `docs/_generated/notebooks/`, with their outputs where the test
suite saved executed copies (`JAXZOO_NOTEBOOK_OUTPUTS`, default `docs/_build/notebooks`).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import generate  # noqa: E402  (docs/generate.py)

project = "jaxzoo"
author = "the jaxzoo engineers"
copyright = "2026, the jaxzoo engineers"
release = generate.version()

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon",
              "sphinx.ext.viewcode"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}  # .rst first: autosummary writes its stubs in the first
exclude_patterns = ["_build", "reproductions.md", "README.md", "**/.ipynb_checkpoints"]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"        # the suite executes the notebooks; their saved outputs are rendered
nb_merge_streams = True
autosummary_generate = True
autodoc_default_options = {"members": False}
autodoc_typehints = "description"
autodoc_mock_imports = ["torch"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
suppress_warnings = ["myst.header"]
html_theme = "sphinx_book_theme"
html_title = "jaxzoo"
html_theme_options = {"show_toc_level": 2}

generate.write_all(HERE, os.environ.get("JAXZOO_NOTEBOOK_OUTPUTS", os.path.join(HERE, "_build", "notebooks")))


def _data_doc_comment(app, what, name, obj, options, lines):
    """A re-exported module-level constant (`rl.MAPS`) gets its `#:` comment, not its type's docstring."""
    import sys

    from sphinx.pycode import ModuleAnalyzer

    if what != "data" or getattr(type(obj), "__doc__", None) != getattr(obj, "__doc__", None):
        return
    package, attr = name.split(".")[0], name.rsplit(".", 1)[-1]
    for modname, module in list(sys.modules.items()):
        if (modname == package or modname.startswith(package + ".")) and getattr(module, attr, None) is obj:
            try:
                comment = ModuleAnalyzer.for_module(modname).find_attr_docs().get(("", attr))
            except Exception:   # a module without source (a compiled extension)
                continue
            if comment:
                lines[:] = list(comment)
                return


def setup(app):
    app.connect("autodoc-process-docstring", _data_doc_comment)
