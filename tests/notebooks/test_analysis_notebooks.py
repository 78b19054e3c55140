"""The notebooks about analysing, attacking, compressing models and RL run top to bottom in smoke mode."""

import pytest

from tests.notebooks.runner import ANALYSIS, run_notebook


@pytest.mark.slow
@pytest.mark.parametrize("name", ANALYSIS)
def test_notebook_runs(name, monkeypatch, tmp_path):
    run_notebook(name, monkeypatch, tmp_path)
