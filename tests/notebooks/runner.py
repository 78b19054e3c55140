"""Runs a notebook top to bottom in smoke mode (JAXZOO_SMOKE=1 shrinks its training). The notebooks
are split over two test files so that pytest-xdist's per-file scheduling puts them on both workers."""

import pathlib

import nbformat
from nbclient import NotebookClient

DIRECTORY = pathlib.Path(__file__).parent.parent.parent / "notebooks"
TRAINING = ("quickstart", "rnn", "captioning", "sequences", "generative", "efficient_training")
ANALYSIS = ("visualization", "adversarial", "compression", "rl")


def run_notebook(name: str, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("JAXZOO_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(DIRECTORY / f"{name}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
