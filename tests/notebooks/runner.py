"""Runs a notebook top to bottom in smoke mode (JAXZOO_SMOKE=1 shrinks its training). The notebooks
are split over two test files so that pytest-xdist's per-file scheduling puts them on both workers.

The cells run in this test process through an in-process IPython shell (what a Jupyter kernel
runs them with, magics and display included), in the notebook's order and one namespace, from a
temporary working directory; figures are drawn after each cell, and a cell that raises fails the
test with its traceback. A kernel
process per notebook would import jax, flax and the zoo again each time (about 6 s apiece here).
"""

import pathlib

import matplotlib
import nbformat
from IPython.core.interactiveshell import InteractiveShell

DIRECTORY = pathlib.Path(__file__).parent.parent.parent / "notebooks"
TRAINING = ("quickstart", "rnn", "captioning", "sequences", "generative", "efficient_training")
ANALYSIS = ("visualization", "adversarial", "compression", "rl")


def run_notebook(name: str, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("JAXZOO_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    notebook = nbformat.read(DIRECTORY / f"{name}.ipynb", as_version=4)
    shell = InteractiveShell.instance()
    shell.reset(new_session=True)
    try:
        for number, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            result = shell.run_cell(cell.source, store_history=False, silent=False)
            if not result.success:
                error = result.error_in_exec or result.error_before_exec
                raise AssertionError(f"{name}.ipynb cell {number} failed: {error!r}") from error
            for figure in map(plt.figure, plt.get_fignums()):   # drawn and closed after each cell, as
                figure.canvas.draw()                            # Jupyter's inline backend does
            plt.close("all")
    finally:
        shell.reset(new_session=True)
        plt.close("all")
