"""PPO's pieces against their definitions; whole runs: `python -m rl ppo` learns CartPole (in a
subprocess with a timeout, so an XLA hang fails one test), and vmapped seeds are independent runs."""

import json
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rl.envs import log_prob_and_entropy
from rl.advantages import gae
from rl.ppo import ppo_loss
from zoo.actor_critic import ActorCritic
from train.state import init_variables


def test_gae_matches_hand_computed_values():
    # gamma 0.9, lambda 0.5; the episode ends after step 1 (terminated: next value 0).
    rewards = jnp.array([1.0, 0.0, 2.0])
    values = jnp.array([0.5, 1.0, 0.2])
    next_values = jnp.array([1.0, 0.0, 0.7])
    dones = jnp.array([0.0, 1.0, 0.0])
    adv, targets = gae(rewards, values, next_values, dones, gamma=0.9, lam=0.5)
    d0, d1, d2 = 1 + 0.9 * 1.0 - 0.5, 0 + 0 - 1.0, 2 + 0.9 * 0.7 - 0.2
    expected = [d0 + 0.45 * d1, d1, d2]  # the recursion stops at the episode end
    np.testing.assert_allclose(adv, expected, rtol=1e-6)
    np.testing.assert_allclose(targets, np.array(expected) + np.asarray(values), rtol=1e-6)


def test_gae_with_lambda_one_is_the_discounted_return_minus_value():
    rewards = jnp.ones(4)
    values = jnp.zeros(4)
    adv, _ = gae(rewards, values, jnp.zeros(4), jnp.array([0.0, 0.0, 0.0, 1.0]), gamma=0.5, lam=1.0)
    np.testing.assert_allclose(adv, [1 + 0.5 + 0.25 + 0.125, 1 + 0.5 + 0.25, 1 + 0.5, 1.0], rtol=1e-6)


def test_log_prob_and_entropy_of_a_categorical():
    logits = jnp.log(jnp.array([[0.25, 0.75]]))
    log_prob, entropy = log_prob_and_entropy(logits, jnp.array([1]))
    np.testing.assert_allclose(log_prob, np.log([0.75]), rtol=1e-6)
    np.testing.assert_allclose(entropy, [-(0.25 * np.log(0.25) + 0.75 * np.log(0.75))], rtol=1e-6)


def constant_policy(probs, value):
    """An apply_fn ignoring its params: fixed action probabilities and value for every row."""
    def apply_fn(params, obs):
        n = obs.shape[0]
        return jnp.log(jnp.tile(probs[None], (n, 1))), jnp.full((n,), value)
    return apply_fn


@pytest.mark.parametrize("ratio, advantage_sign", [(1.5, 1.0), (1.5, -1.0), (0.5, 1.0), (0.5, -1.0), (1.1, 1.0)])
def test_clipped_objective_matches_its_definition(ratio, advantage_sign):
    """Two examples with advantages +-a (normalized to +-1): the policy loss is
    -mean(min(rho A, clip(rho, 0.8, 1.2) A)) with rho the same for both."""
    probs = jnp.array([0.5, 0.5])
    old_log_prob = jnp.log(0.5 / ratio)
    batch = {"obs": jnp.zeros((2, 3)), "action": jnp.array([0, 1]), "log_prob": jnp.full((2,), old_log_prob),
             "value": jnp.zeros(2), "advantages": advantage_sign * jnp.array([2.0, -2.0]), "targets": jnp.zeros(2)}
    _, metrics = ppo_loss(None, constant_policy(probs, 0.0), batch, 0.2, 0.5, 0.0, False)
    adv = advantage_sign * np.array([1.0, -1.0])
    expected = -np.mean(np.minimum(ratio * adv, np.clip(ratio, 0.8, 1.2) * adv))
    np.testing.assert_allclose(metrics["policy_loss"], expected, rtol=1e-5, atol=1e-6)
    assert float(metrics["clip_fraction"]) == float(abs(ratio - 1) > 0.2)


def test_value_clipping_takes_the_worse_of_clipped_and_unclipped():
    batch = {"obs": jnp.zeros((1, 3)), "action": jnp.array([0]), "log_prob": jnp.log(jnp.array([0.5])),
             "value": jnp.array([0.0]), "advantages": jnp.array([0.0]), "targets": jnp.array([1.0])}
    apply_fn = constant_policy(jnp.array([0.5, 0.5]), 0.9)  # new value 0.9, old 0.0, target 1.0
    _, plain = ppo_loss(None, apply_fn, batch, 0.2, 0.5, 0.0, False)
    _, clipped = ppo_loss(None, apply_fn, batch, 0.2, 0.5, 0.0, True)
    np.testing.assert_allclose(plain["value_loss"], 0.5 * 0.1 ** 2, rtol=1e-5)
    np.testing.assert_allclose(clipped["value_loss"], 0.5 * 0.8 ** 2, rtol=1e-5)  # clipped value 0.2


def test_actor_critic_shapes_and_small_initial_policy_logits():
    net = ActorCritic(num_actions=3)
    obs = jax.random.normal(jax.random.key(0), (5, 4))
    params = init_variables(net, jax.random.key(1), obs)
    logits, value = net.apply(params, obs)
    assert logits.shape == (5, 3) and value.shape == (5,)
    assert float(jnp.abs(logits).max()) < 0.1  # policy head gain 0.01: a near-uniform start


@pytest.mark.slow
def test_ppo_learns_cartpole_end_to_end(tmp_path):
    """CartPole's random policy scores about 22. After 50k-100k steps single seeds end anywhere from
    about 230 to 500 (training return) and change with the last bits of the arithmetic (two XLA code
    generators here, 100k steps: mean of 8 seeds 440 vs 349, 16 other seeds 396 vs 433), so the bar is
    on the mean of 8 seeds, vmapped in one program: training return >= 250, greedy policy >= 300. The
    mean training return of three sets of 8 seeds after 50k steps: 424, 419 and 400."""
    result = subprocess.run([sys.executable, "-m", "rl", "ppo", "--seeds", "8", "--config.total_steps=50000",
                             "--workdir", str(tmp_path), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.load(open(tmp_path / "summary.json"))
    assert summary["final_return"]["mean"] >= 250 and summary["greedy_return"]["mean"] >= 300, summary


def test_vmapped_seeds_are_the_single_seed_runs_with_the_same_keys():
    from rl.cli import config_of, make_train_of

    config = config_of("ppo", overrides={"total_steps": "2048", "num_envs": "2", "num_steps": "64"})
    train = make_train_of("ppo")(config)
    keys = jax.random.split(jax.random.key(3), 3)
    together = jax.jit(jax.vmap(train))(keys)
    single = jax.jit(train)
    for i in range(3):
        alone = single(keys[i])
        for name in ("episode_return", "loss"):
            if name in alone["metrics"]:
                np.testing.assert_allclose(np.asarray(together["metrics"][name][i]), np.asarray(alone["metrics"][name]),
                                           rtol=1e-5, atol=1e-6, equal_nan=True)
        chex.assert_trees_all_close(jax.tree.map(lambda a: a[i], together["params"]), alone["params"], rtol=1e-4,
                                    atol=1e-6)
    first, second = (np.asarray(together["metrics"]["episode_return"][i]) for i in (0, 1))
    assert not np.array_equal(first, second, equal_nan=True)  # the seeds really differ


def fixed_outputs(logits, values):
    """An apply_fn ignoring params and obs: the given per-row logits `(N, A)` and values `(N,)`."""
    return lambda params, obs: (logits, values)


def reference_ppo_loss(probs, action, old_log_prob, advantages, value, old_value, targets, eps, vf, ent, clip_value):
    """The PPO loss written out in NumPy from the paper's definition (advantages standardized)."""
    ratio = np.exp(np.log(probs[np.arange(len(action)), action]) - old_log_prob)
    adv = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    policy = -np.mean(np.minimum(ratio * adv, np.clip(ratio, 1 - eps, 1 + eps) * adv))
    squared = (value - targets) ** 2
    if clip_value:
        squared = np.maximum(squared, (old_value + np.clip(value - old_value, -eps, eps) - targets) ** 2)
    entropy = -np.sum(probs * np.log(probs), axis=1).mean()
    return policy + vf * 0.5 * squared.mean() - ent * entropy, policy, 0.5 * squared.mean(), entropy


@pytest.mark.parametrize("clip_value", [False, True])
def test_ppo_loss_with_value_and_entropy_terms_matches_a_hand_computation(clip_value):
    """The whole loss with non-zero `vf_coef` and `ent_coef` (and value clipping both ways) against
    NumPy: rows whose ratio is clipped above and below, values that move more than `clip_eps` up,
    down and less than it, non-uniform policies (so the entropy term is not a constant)."""
    probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5], [0.9, 0.1]])
    action = np.array([1, 0, 1, 0])
    old_log_prob = np.log(np.array([0.5, 0.55, 0.45, 0.6]))  # ratios 1.6, 1.09, 1.11, 1.5
    advantages = np.array([1.0, -2.0, 3.0, -0.5])
    value, old_value, targets = np.array([1.0, -0.5, 0.3, 2.0]), np.array([0.2, 0.1, 0.2, 2.5]), np.zeros(4)
    batch = {"obs": jnp.zeros((4, 1)), "action": jnp.asarray(action), "log_prob": jnp.asarray(old_log_prob),
             "value": jnp.asarray(old_value), "advantages": jnp.asarray(advantages), "targets": jnp.asarray(targets)}
    apply_fn = fixed_outputs(jnp.log(jnp.asarray(probs)), jnp.asarray(value))
    loss, m = ppo_loss(None, apply_fn, batch, 0.2, 0.7, 0.3, clip_value)
    total, policy, value_loss, entropy = reference_ppo_loss(probs, action, old_log_prob, advantages, value, old_value,
                                                            targets, 0.2, 0.7, 0.3, clip_value)
    np.testing.assert_allclose([m["policy_loss"], m["value_loss"], m["entropy"]], [policy, value_loss, entropy],
                               rtol=1e-5)
    np.testing.assert_allclose(loss, total, rtol=1e-5)
    assert float(m["clip_fraction"]) == 0.5  # rows 0 and 3 are outside [0.8, 1.2]


def parametric_policy(params, obs):
    """Logits `params["z"]` and value `params["v"]` for every row of `obs`."""
    n = obs.shape[0]
    return jnp.tile(params["z"][None], (n, 1)), jnp.full((n,), params["v"])


def entropy_of(z):
    p = jax.nn.softmax(z)
    return float(-jnp.sum(p * jnp.log(p)))


def test_ppo_loss_gradient_raises_entropy_and_pulls_the_value_to_its_target():
    """With equal advantages (normalized to 0) only the value and entropy terms have gradients:
    d loss / d z = ent_coef * p (log p + H) (minus ent_coef times the entropy's gradient) and
    d loss / d v = vf_coef * mean(v - target); one gradient step raises the entropy."""
    params = {"z": jnp.array([1.0, -0.5, 0.2]), "v": jnp.float32(0.5)}
    batch = {"obs": jnp.zeros((3, 1)), "action": jnp.array([0, 1, 2]), "log_prob": jnp.log(jnp.full(3, 1 / 3)),
             "value": jnp.full(3, 0.5), "advantages": jnp.full(3, 2.0), "targets": jnp.array([2.0, 3.0, 1.0])}
    grads, _ = jax.grad(ppo_loss, has_aux=True)(params, parametric_policy, batch, 0.2, 0.7, 0.3, False)
    p = np.asarray(jax.nn.softmax(params["z"]))
    H = -np.sum(p * np.log(p))
    np.testing.assert_allclose(grads["z"], 0.3 * p * (np.log(p) + H), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grads["v"], 0.7 * np.mean(0.5 - np.array([2.0, 3.0, 1.0])), rtol=1e-5)
    assert entropy_of(params["z"] - 0.5 * grads["z"]) > entropy_of(params["z"]) + 1e-3


def test_bootstrapped_advantages_bootstrap_truncations_but_not_terminations():
    """Two environments, three steps; at step 1 environment 0 is truncated by the time limit and
    environment 1 terminates. Against the GAE recursion written out per environment: a truncated
    step still bootstraps from the critic's value of its final observation (the critic here is
    obs[:, 0]), a terminal one does not, and neither carries the advantage across the episode end."""
    from rl.advantages import bootstrapped_advantages
    from rl.envs import Transition

    gamma, lam = 0.9, 0.8
    reward = np.array([[1.0, 0.5], [2.0, 1.0], [0.0, 3.0]])
    value = np.array([[0.3, 0.1], [0.4, 0.2], [0.5, 0.6]])
    next_v = np.array([[1.5, 2.0], [4.0, 7.0], [0.7, 0.9]])  # the critic's value of each next_obs
    terminated = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    done = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    next_obs = np.stack([next_v, np.zeros_like(next_v)], axis=-1)
    traj = Transition(obs=None, action=None, log_prob=None, value=jnp.asarray(value), reward=jnp.asarray(reward),
                      next_obs=jnp.asarray(next_obs), terminated=jnp.asarray(terminated), done=jnp.asarray(done))
    critic = lambda params, obs: (None, obs[:, 0])
    adv, targets = bootstrapped_advantages(critic, None, traj, gamma, lam)
    expected = np.zeros_like(reward)
    for e in range(2):
        carry = 0.0
        for t in reversed(range(3)):
            delta = reward[t, e] + gamma * (0.0 if terminated[t, e] else next_v[t, e]) - value[t, e]
            carry = delta + (0.0 if done[t, e] else gamma * lam * carry)
            expected[t, e] = carry
    np.testing.assert_allclose(adv, expected, rtol=1e-6)
    np.testing.assert_allclose(targets, expected + value, rtol=1e-6)
    assert expected[1, 0] == pytest.approx(2.0 + 0.9 * 4.0 - 0.4)  # the truncated step bootstraps
