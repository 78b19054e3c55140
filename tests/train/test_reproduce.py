"""`python -m train reproduce`: verdicts follow each claim's stated criterion (made-up numbers), the
report merges claims run one at a time, finished runs are reused and stale ones refused."""

import json
import os

import pytest

from train.errors import UserError
from train.reproduce import claims, criteria, report
from train.reproduce.runner import Runner

R, D, I, N = criteria.REPRODUCED, criteria.DIRECTION, criteria.INCONCLUSIVE, criteria.NOT_REPRODUCED


def acc(value):
    return {"value": value, "ci": [value - 0.02, value + 0.02], "n": 500}


def cmp(lo, hi):
    """A made-up comparison whose 95% interval is [lo, hi] (positive: the paper's effect)."""
    return {"difference": (lo + hi) / 2, "ci": [lo, hi], "p_value": 0.01 if lo > 0 or hi < 0 else 0.5}


def variants(base: dict, verdict: str, changes: list[tuple[dict, str]]) -> list[tuple[dict, str]]:
    """`base` (which must give `verdict`) and each of `changes` applied to it, with its verdict."""
    return [(base, verdict)] + [({**base, **change}, v) for change, v in changes]


GRADIENT_FLOW = {"bound_violations": [], "vanishing_sigma_0.5": 1e-15, "saturated_sigma_1.5": 1e-18,
                 "bound_sigma_1.5": 4e8, "unclipped_max_grad_norm": float("inf"), "unclipped_loss_finite": False,
                 "clipped_loss_finite": True, "clipped_loss_first_last": [0.9, 0.03]}
MADRY = {"pgd100_restarts20_500_images": acc(0.85), "fgsm": acc(0.9), "transfer_from_natural_pgd40": acc(0.95),
         "pgd40_eps_0.5": acc(0.02)}
DISTILL = {"distilled_vs_alone": cmp(2, 8), "gap_closed": {"value": 0.7, "ci": [0.5, 0.9]}}
NLL = {"pixelcnn_vs_vae": cmp(2, 8), "vae_vs_independent_pixels": cmp(90, 110)}
NLL_RECURRENT = {"measured": 95.0, "draw_vs_vae": cmp(2, 8), "pixelrnn_vs_pixelcnn": cmp(1, 3)}
RAM = {"ram_vs_cnn": cmp(1, 3), "ram_vs_mlp": cmp(5, 9), "ram_vs_ram_random": cmp(2, 4)}
GAN = {"measured": 4.9, "gan_vs_vae": cmp(100, 300), "classes_covered": 10, "min_class_share": 0.05,
       "nearest_training_distance_ratio": 0.8}
MNIST1D = {"cnn_accuracy": acc(0.91), "gru_accuracy": acc(0.88), "mlp_accuracy": acc(0.73)}


def compression(published):
    bar = 0.9 * published
    return variants({"measured": bar, "mcnemar": {"a_only": 5, "b_only": 3, "p_value": 0.73}}, R, [
        ({"measured": bar - 0.01}, D), ({"measured": published / 2}, D), ({"measured": published / 2 - 0.01}, N),
        ({"mcnemar": {"a_only": 20, "b_only": 5, "p_value": 0.004}}, N),      # the dense model right more often
        ({"mcnemar": {"a_only": 5, "b_only": 20, "p_value": 0.004}}, R)])     # the compressed one right more often


# claim id -> [(made-up details, the verdict its criterion must give)]: each bar met exactly and just missed
CASES = {
    "gradient_flow": variants(GRADIENT_FLOW, R, [
        ({"bound_violations": [{"sigma": 1.1, "norm": 2.0, "bound": 1.0}]}, N), ({"vanishing_sigma_0.5": 2e-6}, N),
        ({"saturated_sigma_1.5": 2e-6}, D), ({"bound_sigma_1.5": 1e-7}, D), ({"unclipped_loss_finite": True}, D),
        ({"unclipped_max_grad_norm": 999.0}, D), ({"clipped_loss_finite": False}, D),
        ({"clipped_loss_first_last": [0.9, 0.46]}, D)]),
    "fgsm_softmax": [({"measured": 0.98}, R), ({"measured": 0.979}, D), ({"measured": 0.5}, D), ({"measured": 0.49}, N)],
    "pgd_madry": variants(MADRY, R, [
        ({"pgd100_restarts20_500_images": acc(0.80)}, R), ({"pgd100_restarts20_500_images": acc(0.79)}, D),
        ({"pgd100_restarts20_500_images": acc(0.50)}, D), ({"pgd100_restarts20_500_images": acc(0.49)}, N),
        ({"fgsm": acc(0.84)}, N), ({"transfer_from_natural_pgd40": acc(0.84)}, N), ({"pgd40_eps_0.5": acc(0.11)}, N),
        ({"pgd100_restarts20_500_images": acc(0.6), "pgd40_eps_0.5": acc(0.2)}, N)]),
    "distillation_mnist": variants(DISTILL, R, [
        ({"gap_closed": {"value": 0.7, "ci": [0.49, 0.9]}}, D), ({"distilled_vs_alone": cmp(-1, 5)}, I),
        ({"distilled_vs_alone": cmp(-8, -2)}, N)]),
    "deep_compression_lenet300": compression(40.0),
    "deep_compression_lenet5": compression(39.0),
    "mnist1d_baselines": variants(MNIST1D, R, [
        ({"cnn_accuracy": acc(0.909)}, D), ({"gru_accuracy": acc(0.879)}, D), ({"mlp_accuracy": acc(0.731)}, D),
        ({"gru_accuracy": acc(0.60)}, N)]),
    "nll_binarized_mnist": variants(NLL, R, [
        ({"pixelcnn_vs_vae": cmp(-1, 3)}, I), ({"pixelcnn_vs_vae": cmp(-5, -1)}, N),
        ({"vae_vs_independent_pixels": cmp(-0.5, 4)}, I), ({"vae_vs_independent_pixels": cmp(-3, -1)}, N)]),
    "nll_recurrent_binarized_mnist": variants(NLL_RECURRENT, R, [
        ({"measured": 1.25 * 80.97}, R), ({"measured": 1.25 * 80.97 + 0.01}, D), ({"draw_vs_vae": cmp(-1, 2)}, I),
        ({"pixelrnn_vs_pixelcnn": cmp(-0.5, 0.5)}, I), ({"pixelrnn_vs_pixelcnn": cmp(-2, -1)}, N),
        ({"measured": 169.0, "draw_vs_vae": cmp(-70, -60)}, N), ({"measured": 169.0, "draw_vs_vae": cmp(-1, 2)}, I)]),
    "ram_cluttered_mnist": variants(RAM, R, [
        ({"ram_vs_cnn": cmp(-1, 2)}, I), ({"ram_vs_cnn": cmp(-3, -1)}, N), ({"ram_vs_ram_random": cmp(-1, 1)}, I),
        ({"ram_vs_mlp": cmp(-5, -1)}, N), ({"ram_vs_cnn": cmp(-1, 2), "ram_vs_mlp": cmp(-5, -1)}, N)]),
    "dsd_lenet300": [({"dsd_vs_dense": cmp(0.1, 0.5)}, R), ({"dsd_vs_dense": cmp(-0.2, 0.4)}, I),
                     ({"dsd_vs_dense": cmp(-0.5, -0.1)}, N)],
    "gan_mnist": variants(GAN, R, [
        ({"measured": 5.0}, R), ({"measured": 5.01}, D), ({"gan_vs_vae": cmp(-10, 50)}, I),
        ({"gan_vs_vae": cmp(-300, -100)}, N), ({"classes_covered": 9}, N), ({"min_class_share": 0.029}, N),
        ({"nearest_training_distance_ratio": 0.49}, N), ({"measured": 9.0, "gan_vs_vae": cmp(-10, 50)}, I)]),
}
CASES["distillation_mnist1d"] = CASES["distillation_mnist"]


def test_every_claim_has_verdict_cases():
    assert set(CASES) == set(claims.BY_ID)


@pytest.mark.parametrize("claim_id", sorted(CASES))
def test_verdicts_follow_the_stated_criterion(claim_id):
    claim = claims.BY_ID[claim_id]
    for details, expected in CASES[claim_id]:
        assert claim.criterion.verdict(details) == expected, (details, claim.criterion.text)


# the claims ../shared/published.md covers (every one but distillation_mnist1d)
PUBLISHED = set(claims.BY_ID) - {"distillation_mnist1d"}


def test_every_claim_published_md_covers_quotes_its_number_with_paper_table_and_scale():
    for claim in claims.CLAIMS:
        assert claim.scale and claim.published_note
        if claim.id in PUBLISHED:
            assert claim.published is not None, claim.id
            assert any(w in claim.published_note for w in ("Table", "Section", "README")), claim.id
            assert report.versus(claim, claim.published) is not None
        else:
            assert claim.published is None and "no published" in claim.published_note


def test_ours_against_published_is_a_ratio_or_a_difference_in_points():
    fgsm, compression = claims.BY_ID["fgsm_softmax"], claims.BY_ID["deep_compression_lenet300"]
    assert report.versus(fgsm, 0.95) == pytest.approx(100 * (0.95 - 0.999))
    assert report.versus(compression, 38.0) == pytest.approx(38.0 / 40.0)
    assert isinstance(report.versus(claims.BY_ID["gan_mnist"], 3.0), str)
    assert report.versus(claims.BY_ID["distillation_mnist1d"], 0.3) is None
    # "points" scales a rate by 100: a claim measured in percent would read 100x too far off
    for claim in claims.CLAIMS:
        if claim.versus == "points":
            assert 0 <= claim.published <= 1 and "%" not in claim.unit, claim.id


def test_claim_recipes_monitor_validation_and_selections_never_read_the_test_split():
    from train import configs

    used = {recipe for recipe, _ in [*claims.RUNS.values(), *claims.LIKELIHOOD_RUNS.values(), claims.GAN_RUN]} | set(
        claims.RAM_RECIPES.values()) | {"distill_mnist5k", "distill_mnist1d"}
    for recipe in sorted(used):
        config = configs.get_config(recipe)
        assert config.eval_split == "validation" and config.test_split == "test", recipe

    class Recorder:
        def __init__(self):
            self.calls = []

        def train(self, name, recipe, overrides):
            self.calls.append(overrides)
            return {"score": overrides["temperature"] % 7}

    runner = Recorder()
    best, scores = claims._select(runner, "d", "distill_mnist5k", {"seeds": (0,)}, "temperature", (4.0, 8.0, 20.0),
                                  lambda s: s["score"])
    assert all(c["test_split"] == "validation" and c["seeds"] == (0,) for c in runner.calls)
    assert [c["temperature"] for c in runner.calls] == [4.0, 8.0, 20.0] and best == 8.0  # 8 % 7 = 1 is lowest
    assert scores == {"4.0": 4.0, "8.0": 1.0, "20.0": 6.0}


class LikelihoodRunner:
    """Stands in for `Runner`: records the runs asked for and returns made-up NLLs per recipe and seed."""

    NLL = {"pixelcnn_mnist5k": 90.0, "vae_mnist5k": 100.0, "pixelrnn_mnist5k": 88.0, "draw_mnist5k": 95.0}

    def __init__(self):
        self.runs = {}

    def path(self, name):
        return f"/runs/{name}"

    def train(self, name, recipe, overrides=None):
        # a run two claims share must be asked for with one config, or the second claim would be refused
        assert self.runs.setdefault(name, (recipe, overrides)) == (recipe, overrides), name
        nll = self.NLL.get(recipe, 0.0) + 0.5 * (overrides or {}).get("seed", 0)
        return {"test": {"test_nll_nats": nll, "test_negative_bound": nll},
                "report": {"iwae_nll_nats": nll, "independent_pixels_nll_nats": 200.0}}


def test_likelihood_claims_train_every_model_with_five_seeds_and_share_the_runs():
    runner = LikelihoodRunner()
    binarized = claims.nll_binarized_mnist(runner)
    recurrent = claims.nll_recurrent_binarized_mnist(runner)
    seeds = list(claims.SEEDS)
    assert len(seeds) >= 5
    assert binarized["pixelcnn"] == recurrent["pixelcnn"] == [90.0 + 0.5 * s for s in seeds]
    assert recurrent["draw_bound"] == [95.0 + 0.5 * s for s in seeds]
    assert recurrent["vae_iwae"] == [100.0 + 0.5 * s for s in seeds]
    for name in ("pixelcnn", "vae", "pixelrnn", "draw"):
        assert [runner.runs[f"{name}_seed{s}"][1]["seed"] for s in seeds] == seeds
    assert binarized["pixelcnn_vs_vae"]["difference"] == pytest.approx(10.0)
    assert recurrent["pixelrnn_vs_pixelcnn"]["difference"] == pytest.approx(2.0)
    assert claims.BY_ID["nll_binarized_mnist"].criterion.verdict(binarized) == R
    assert claims.BY_ID["nll_recurrent_binarized_mnist"].criterion.verdict(recurrent) == R  # 96 <= 1.25 x 80.97


def _entry(claim_id, measured, code="a" * 64):
    return report.entry(claims.BY_ID[claim_id], {**CASES[claim_id][0][0], "measured": measured}, 0.0,
                        stamp={"commit": "c0ffee", "date": "2026-12-02", "code_sha256": code})


def test_the_report_merges_claims_run_one_at_a_time(tmp_path):
    order = [c.id for c in claims.CLAIMS]
    report.write(report.merged([_entry("dsd_lenet300", 0.1)], str(tmp_path), order), str(tmp_path))
    report.write(report.merged([_entry("fgsm_softmax", 0.99)], str(tmp_path), order), str(tmp_path))
    entries = json.loads((tmp_path / "reproductions.json").read_text())
    assert [e["id"] for e in entries] == ["fgsm_softmax", "dsd_lenet300"]  # claim order, not run order
    for e in entries:
        assert {"id", "published", "measured", "ours_vs_published", "scale", "unit", "verdict", "commit", "date",
                "code_sha256"} <= set(e)
    assert entries[0]["verdict"] == R and entries[0]["ours_vs_published"] == pytest.approx(-0.9)
    table = (tmp_path / "reproductions.md").read_text()
    assert "| `fgsm_softmax` |" in table and "**reproduced**" in table and "-0.9 points" in table
    assert "commit `c0ffee` on 2026-12-02" in table
    # a claim measured by other code replaces the report instead of joining it
    report.write(report.merged([_entry("gan_mnist", 4.0, code="b" * 64)], str(tmp_path), order), str(tmp_path))
    assert [e["id"] for e in json.loads((tmp_path / "reproductions.json").read_text())] == ["gan_mnist"]


def test_a_finished_run_is_reused_and_one_with_another_config_refused(tmp_path):
    overrides = {"num_steps": 30, "eval_every": 0, "checkpoint_every": 30, "test_split": "test[:100]"}
    first = Runner(str(tmp_path), progress=False)
    summary = first.train("mlp", "classify_digits_mlp", overrides)
    again = Runner(str(tmp_path), progress=False)
    assert again.train("mlp", "classify_digits_mlp", overrides)["test"] == summary["test"] and again.reused == ["mlp"]
    assert again.trained == []
    with pytest.raises(UserError, match="another config; remove it or pass another --workdir"):
        again.train("mlp", "classify_digits_mlp", {**overrides, "num_steps": 40})
    other_code = Runner(str(tmp_path), progress=False, code="0" * 64)
    assert other_code.root != again.root and not os.path.exists(other_code.path("mlp"))  # never reused by other code


def test_the_code_hash_covers_every_package_source_but_not_its_docs(tmp_path, monkeypatch):
    import shutil

    from train.reproduce import runner

    before = runner.code_hash()
    assert len(before) == 64 and before == runner.code_hash()
    top = tmp_path / "checkout"
    for package in runner.PACKAGES:  # a copy of the sources, one byte changed in a leaf module
        shutil.copytree(os.path.join(os.path.dirname(runner.__file__), "..", "..", package), top / package,
                        ignore=shutil.ignore_patterns("__pycache__", "weights"))
    fake = top / "train" / "reproduce" / "runner.py"
    monkeypatch.setattr(runner, "__file__", str(fake))
    assert runner.code_hash() == before
    envs = top / "rl" / "envs.py"
    source = envs.read_text()
    envs.write_text(source.replace('"""', '"""A docstring edit. ', 1) + "\n# a comment\n")
    assert runner.code_hash() == before  # documentation does not make a new code version
    envs.write_text(source + "\nX = 1\n")
    assert runner.code_hash() != before


def test_only_takes_repeated_flags_and_lists_alike():
    from train.reproduce.cli import parse_args

    assert parse_args(["--only", "a", "--only", "b"]).only == ["a", "b"]
    assert parse_args(["--only", "a", "b"]).only == ["a", "b"]


def test_cli_rejects_an_unknown_claim_in_one_line(capsys):
    from train.cli import main

    assert main(["reproduce", "--only", "no_such_claim"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown claim 'no_such_claim'; choose from gradient_flow, fgsm_softmax") and err.count("\n") == 1


def test_fgsm_softmax_end_to_end_on_real_digits_at_a_small_budget(tmp_path, monkeypatch, capsys):
    from train.cli import main

    recipe, overrides = claims.RUNS["softmax_regression"]
    monkeypatch.setitem(claims.RUNS, "softmax_regression", (recipe, {**overrides, "num_steps": 300, "eval_every": 0,
                                                                     "checkpoint_every": 300}))
    assert main(["reproduce", "--only", "fgsm_softmax", "--workdir", str(tmp_path), "--no-progress"]) == 0
    (entry,) = json.loads((tmp_path / "reproductions.json").read_text())
    # Goodfellow et al.'s effect on real 28x28 digits: a linear model is fooled almost always at eps 0.25
    assert entry["details"]["clean_error"]["value"] < 0.15 and entry["measured"] >= 0.98 and entry["verdict"] == R
    assert entry["details"]["error_under_fgsm"]["n"] == 1000 and entry["commit"] and entry["code_sha256"]
    assert "fgsm_softmax: reproduced" in capsys.readouterr().out
