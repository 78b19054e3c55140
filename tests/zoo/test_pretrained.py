"""`zoo.pretrained`: every shipped model rebuilt from its folder alone reproduces its card's headline
metric; files are checked on load; a shipped model whose recipe or module changed is caught."""

import json
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import pretrained

SHIPPED = sorted(pretrained.list())


def card_of(name: str) -> dict:
    """A shipped model's card (its config.json), read without loading the weights."""
    return json.load(open(os.path.join(pretrained.DIRECTORY, name, pretrained.CONFIG)))


POLICIES = [n for n in SHIPPED if "env" in card_of(n)["task_meta"]]   # CartPole policies (rl.publish)
GENERATORS = [n for n in SHIPPED if card_of(n)["recipe_config"].get("task") == "gan"]  # a GAN's generator alone


def test_models_are_shipped_small_and_in_the_hub_layout():
    assert {"cnn_digits", "lenet5_mnist5k", "lenet300_mnist5k"} <= set(SHIPPED)
    total = 0
    for name in SHIPPED:
        folder = os.path.join(pretrained.DIRECTORY, name)
        assert sorted(os.listdir(folder)) == ["README.md", "config.json", "model.safetensors"], name
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        card = open(os.path.join(folder, "README.md")).read()
        config = json.load(open(os.path.join(folder, "config.json")))
        assert config["sha256"] in card and config["commit"] in card and config["recipe"] in card
    assert total < 30e6


@pytest.mark.parametrize("name", [n for n in SHIPPED if n not in POLICIES + GENERATORS])
def test_a_shipped_model_reproduces_its_cards_headline_metric(name):
    """The task is rebuilt from `config.json` alone (no run, no recipe file read) and evaluated on the
    test split; classifiers are also scored with the zoo module alone, as a user's code would."""
    from train import data
    from train.restore import load_pretrained

    module, variables, card = pretrained.load(name)
    headline = card["headline"]
    task, state, _ = load_pretrained(name)
    measured = task.evaluate(state, "test")[headline["metric"]]
    assert round(measured, headline["decimals"]) == pytest.approx(headline["value"], abs=10 ** -headline["decimals"])
    if task.config.task == "classification":
        test = data.load(task.config.dataset, "test", task.config.data_dir or None)
        logits = module.apply(jax_tree(variables), jnp.asarray(test[task.config.input_key]), **card["apply_kwargs"])
        accuracy = float(np.mean(np.asarray(jnp.argmax(logits, -1)) == test["label"]))
        assert accuracy == pytest.approx(card["metrics"]["test_accuracy"], abs=10 ** -headline["decimals"])


def test_the_gan_generator_is_shipped_and_refused_as_a_run_in_one_line():
    from train.errors import UserError
    from train.restore import load_pretrained

    assert GENERATORS == ["dcgan_mnist5k"]
    with pytest.raises(UserError, match="^dcgan_mnist5k is gan_mnist5k's zoo.gan.Generator alone, not a run"):
        load_pretrained("dcgan_mnist5k")


@pytest.mark.parametrize("name", GENERATORS)
def test_a_shipped_generator_reproduces_its_frechet_distance_and_draws_every_digit(name):
    """The card's headline recomputed from the folder alone: `num_samples` images from noise of seed 0
    in the scoring classifier's penultimate features against the test split's, the Fréchet distance
    taken here through the eigenvalues of `S_a S_b` (not the library's matrix square root). Then the
    GAN's purpose: the scorer reads all ten digits among the samples, none under 3% of them, and the
    samples are at least 5x nearer the test digits than uniform noise is."""
    import scipy.linalg

    from train import data
    from train.generative_eval import FeatureClassifier
    from train.restore import load_pretrained

    module, variables, card = pretrained.load(name)
    config = card["recipe_config"]
    z = jax.random.normal(jax.random.key(0), (config["num_samples"], config["gan"]["latent"]))
    samples = np.asarray(module.apply(jax_tree(variables), z, train=False))
    scorer, scorer_state, _ = load_pretrained(config["eval_classifier"], "classification")
    features = FeatureClassifier(scorer, scorer_state.variables())
    test = np.asarray(data.load(config["dataset"], "test")[config["input_key"]], np.float32)

    def frechet(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        ridge = 1e-6 * np.eye(a.shape[1])        # as the library fits them: dead ReLU features are constant
        cov_a, cov_b = np.cov(a.T) + ridge, np.cov(b.T) + ridge
        root_trace = np.sqrt(np.clip(scipy.linalg.eigvals(cov_a @ cov_b).real, 0, None)).sum()
        return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * root_trace)

    reference, _ = features(test)
    sample_features, classes = features(samples)
    headline = card["headline"]
    assert round(frechet(sample_features, reference), headline["decimals"]) == pytest.approx(
        headline["value"], abs=10 ** -headline["decimals"])
    share = np.bincount(classes, minlength=10) / len(classes)
    assert share.min() >= 0.03, share
    noise = np.random.default_rng(0).random(samples.shape, dtype=np.float32)
    assert 5 * frechet(sample_features, reference) < frechet(features(noise)[0], reference)


def test_the_ppo_and_dqn_policies_are_shipped():
    assert {"ppo_cartpole", "dqn_cartpole"} <= set(POLICIES)


@pytest.mark.parametrize("name", POLICIES)
def test_a_shipped_policy_reproduces_its_greedy_return_and_balances_the_pole(name):
    """The card's headline recomputed from the folder alone; then, independently of `rl.envs`, the
    argmax policy stepped through gymnax's CartPole-v1 one step per call on 8 other episodes must
    average at least 195 (the old "solved" threshold; 500 is the most an episode gives)."""
    import gymnax

    from rl.publish import greedy_return_of

    module, variables, card = pretrained.load(name)
    measured = greedy_return_of(card["recipe"], module, variables, card["task_meta"]["env"])
    assert round(measured, 1) == pytest.approx(card["headline"]["value"], abs=0.1)
    env, params = gymnax.make(card["task_meta"]["env"])
    episodes = 8
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(jax.random.key(2024), episodes), params)
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    act = jax.jit(lambda o: jnp.argmax(jax.tree.leaves(module.apply(variables, o))[0], -1))  # logits or Q-values
    total, alive = np.zeros(episodes), np.ones(episodes)
    for key in jax.random.split(jax.random.key(7), params.max_steps_in_episode):
        obs, state, reward, terminated, truncated, _ = step(jax.random.split(key, episodes), state, act(obs), params)
        total += alive * np.asarray(reward)
        alive *= 1 - np.asarray(terminated | truncated)
    assert not alive.any() or total.max() == params.max_steps_in_episode
    assert total.mean() >= 195, total


@pytest.mark.parametrize("name", [n for n in SHIPPED if "inputs" in card_of(n)["task_meta"].get("shapes", {})])
def test_the_model_cards_use_snippet_runs(name):
    """The card's Python block runs as written on one zero input of the card's example shape."""
    _, _, card = pretrained.load(name)
    readme = open(os.path.join(pretrained.DIRECTORY, name, "README.md")).read()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {"inputs": jnp.zeros((1, *card["task_meta"]["shapes"]["inputs"]))}
    exec(snippet, namespace)
    assert namespace["outputs"] is not None and np.isfinite(np.asarray(jax.tree.leaves(namespace["outputs"])[0])).all()


def jax_tree(variables):
    return jax.tree.map(jnp.asarray, variables)


@pytest.mark.parametrize("page", ["README.md", "docs/getting_started.md"])
def test_the_table_of_shipped_models_is_the_shipped_models(page):
    from train.publish import markdown_table

    text = open(os.path.join(os.path.dirname(pretrained.DIRECTORY), os.pardir, page)).read()
    assert markdown_table(pretrained.DIRECTORY) in text, f"regenerate {page}'s table: python -m train publish --table"


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_model_matches_its_recipe_and_module_code(name):
    from train.publish import staleness

    assert staleness(pretrained.load(name)[2]) is None


def test_a_changed_recipe_config_is_caught_with_the_command_that_regenerates(monkeypatch):
    from train import configs
    from train.publish import staleness

    card = pretrained.load("lenet5_mnist5k")[2]
    original = configs.get_config

    def changed(recipe):
        config = original(recipe)
        if recipe == "classify_mnist5k":
            config.optimizer.learning_rate *= 2
        return config

    monkeypatch.setattr(configs, "get_config", changed)
    assert staleness(card) == ("lenet5_mnist5k: its recipe config changed since the weights were made; regenerate "
                               "with: python -m train publish classify_mnist5k --name lenet5_mnist5k")
    card["code_sha256"] = "0" * 64
    assert "its recipe config and module code changed" in staleness(card)


def test_the_module_code_hash_ignores_docstrings_and_comments_but_not_code(tmp_path, monkeypatch):
    from train.publish import code_sha256

    def hash_of(source):
        path = tmp_path / f"m{abs(hash(source))}.py"
        path.write_text(source)
        monkeypatch.syspath_prepend(str(tmp_path))
        return code_sha256(__import__(path.stem).Net)

    base = hash_of('class Net:\n    """Doc."""\n    width: int = 3\n')
    assert base == hash_of('class Net:\n    """Other words."""\n    # a comment\n    width: int = 3\n')
    assert base != hash_of('class Net:\n    """Doc."""\n    width: int = 4\n')


@pytest.fixture
def copied(tmp_path):
    folder = tmp_path / "cnn_digits"
    shutil.copytree(os.path.join(pretrained.DIRECTORY, "cnn_digits"), folder)
    return folder


def test_a_flipped_byte_a_missing_file_and_an_unknown_name_are_value_errors(copied):
    weights = copied / "model.safetensors"
    original = weights.read_bytes()
    for offset in (0, len(original) // 2, len(original) - 1):
        data = bytearray(original)
        data[offset] ^= 0xFF
        weights.write_bytes(bytes(data))
        with pytest.raises(ValueError, match=f"^{weights} does not match its sha256"):
            pretrained.load(str(copied))
    weights.unlink()
    with pytest.raises(ValueError, match=f"^{weights} is missing$"):
        pretrained.load(str(copied))
    with pytest.raises(ValueError, match="no shipped model or folder named 'resnet1000'; shipped: cnn_digits, "):
        pretrained.load("resnet1000")


def test_a_users_folder_in_the_same_layout_loads_the_same_way(copied, tmp_path):
    """`save` writes what `load` reads, for a module with nested tuple fields and a non-default activation."""
    import flax.linen as nn

    import zoo

    module = zoo.MLP(num_classes=3, features=(5, 4), act=nn.tanh)
    variables = module.init(jax.random.key(0), jnp.ones((1, 6)))
    card = {"description": "mine", "apply_kwargs": {}}
    digest = pretrained.save(str(tmp_path / "mine"), module, variables, card, "# mine\n\nsha256 {sha256}\n")
    rebuilt, loaded, read = pretrained.load(str(tmp_path / "mine"))
    assert rebuilt == module and read["sha256"] == digest and read["readme"] == f"# mine\n\nsha256 {digest}\n"
    x = jax.random.normal(jax.random.key(1), (2, 6))
    np.testing.assert_array_equal(rebuilt.apply(jax_tree(loaded), x), module.apply(variables, x))
    assert sorted(pretrained.flatten(variables)) == ["params.dense0.bias", "params.dense0.kernel",
                                                     "params.dense1.bias", "params.dense1.kernel",
                                                     "params.head.bias", "params.head.kernel"]


def test_config_json_builds_only_zoo_modules(tmp_path):
    with pytest.raises(ValueError, match="names the class os.system; only classes of zoo are built"):
        pretrained.build_module({"class": "os.system", "fields": {}})
    with pytest.raises(ValueError, match="names zoo.pretrained.load, which is not a flax module"):
        pretrained.build_module({"class": "zoo.pretrained.load", "fields": {}})
