"""The notebooks about training models run top to bottom in smoke mode."""

import pytest

from tests.notebooks.runner import ANALYSIS, DIRECTORY, TRAINING, run_notebook


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAINING)
def test_notebook_runs(name, monkeypatch, tmp_path):
    run_notebook(name, monkeypatch, tmp_path)


def test_every_notebook_is_run_by_one_of_the_two_files():
    names = sorted(p.stem for p in DIRECTORY.glob("*.ipynb"))
    assert names and sorted(TRAINING + ANALYSIS) == names
