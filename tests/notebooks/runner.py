"""Runs a notebook top to bottom in smoke mode (JAXZOO_SMOKE=1 shrinks its training). The notebooks
are split over two test files so that pytest-xdist's per-file scheduling puts them on both workers.

The cells run in this test process through an in-process IPython shell (what a Jupyter kernel
runs them with, magics and display included), in the notebook's order and one namespace, from a
temporary working directory; figures are drawn after each cell, and a cell that raises fails the
test with its traceback. A kernel
process per notebook would import jax, flax and the zoo again each time.

With `JAXZOO_NOTEBOOK_OUTPUTS=DIR` each executed notebook is also saved to `DIR/NAME.ipynb` with its
outputs (printed text, the value of a cell's last expression, and every figure as a PNG): the
documentation renders those (`docs/conf.py`).
"""

import base64
import io
import os
import pathlib

import matplotlib
import nbformat
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

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
    save_to = os.environ.get("JAXZOO_NOTEBOOK_OUTPUTS")
    try:
        for number, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            with capture_output(display=True) as captured:
                result = shell.run_cell(cell.source, store_history=False, silent=False)
            if not result.success:
                error = result.error_in_exec or result.error_before_exec
                raise AssertionError(f"{name}.ipynb cell {number} failed: {error!r}") from error
            figures = []
            for figure in map(plt.figure, plt.get_fignums()):   # drawn and closed after each cell, as
                figure.canvas.draw()                            # Jupyter's inline backend does
                if save_to:
                    figures.append(_png(figure))
            plt.close("all")
            if save_to:
                cell.outputs = _outputs(captured, result, figures)
        if save_to:
            os.makedirs(save_to, exist_ok=True)
            nbformat.write(notebook, os.path.join(save_to, f"{name}.ipynb"))
    finally:
        shell.reset(new_session=True)
        plt.close("all")


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _outputs(captured, result, figures: list[str]) -> list:
    """A cell's outputs in nbformat: its stream text, rich displays, last value and figures."""
    outputs = [nbformat.v4.new_output("stream", name=stream, text=text)
               for stream, text in (("stdout", captured.stdout), ("stderr", captured.stderr)) if text]
    outputs += [nbformat.v4.new_output("display_data", data=out.data) for out in captured.outputs]
    if result.result is not None:
        outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": repr(result.result)},
                                              execution_count=None))
    outputs += [nbformat.v4.new_output("display_data", data={"image/png": png}) for png in figures]
    return outputs
