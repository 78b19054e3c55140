import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rl.mdp import MAPS, MDP, gridworld, plot_values, policy_evaluation, policy_iteration, q_values, value_iteration
from rl.tabular import make_q_learning

GRIDS = [(name, slippery) for name in MAPS for slippery in (False, True)]


def test_policy_evaluation_on_a_hand_solved_chain():
    # Two states: state 0 pays 1 and moves to 1; state 1 pays 0 and stays. V0 = 1, V1 = 0 (gamma 0.9).
    P = jnp.zeros((2, 1, 2)).at[0, 0, 1].set(1.0).at[1, 0, 1].set(1.0)
    R = jnp.zeros((2, 1, 2)).at[0, 0, 1].set(1.0)
    mdp = MDP(P, R, 0.9, jnp.array([1.0, 0.0]), jnp.array([False, True]))
    np.testing.assert_allclose(policy_evaluation(mdp, jnp.zeros(2, jnp.int32)), [1.0, 0.0], atol=1e-6)
    # A self-loop paying 1 is worth 1 / (1 - gamma).
    loop = MDP(jnp.ones((1, 1, 1)), jnp.ones((1, 1, 1)), 0.9, jnp.ones(1), jnp.array([False]))
    np.testing.assert_allclose(policy_evaluation(loop, jnp.zeros(1, jnp.int32)), [10.0], rtol=1e-5)


def test_gridworld_transitions_are_distributions_and_terminals_absorb():
    mdp = gridworld("4x4", slippery=True)
    np.testing.assert_allclose(mdp.P.sum(-1), 1.0, atol=1e-6)
    for s in np.flatnonzero(np.asarray(mdp.terminal)):
        np.testing.assert_array_equal(mdp.P[s, :, s], 1.0)
        assert not np.asarray(mdp.R[s]).any()
    # Slippery: from the start, "right" reaches 1 with p 1/3, stays (bumps up) 1/3, goes down 1/3.
    np.testing.assert_allclose(mdp.P[0, 2, [0, 1, 4]], [1 / 3, 1 / 3, 1 / 3], atol=1e-6)


def test_walls_block_moves():
    mdp = gridworld("4x4_walls")
    assert float(mdp.P[1, 1, 1]) == 1.0  # moving down from (0, 1) into a wall stays put


@pytest.mark.parametrize("name, slippery", GRIDS)
def test_value_and_policy_iteration_agree(name, slippery):
    mdp = gridworld(name, slippery)
    V_vi, pi_vi, _ = jax.jit(value_iteration)(mdp)
    V_pi, pi_pi, _ = jax.jit(policy_iteration)(mdp)
    np.testing.assert_allclose(V_vi, V_pi, atol=1e-5)
    # The same policy up to ties: each method's actions are optimal under the other's values.
    Q = np.asarray(q_values(mdp, V_vi))
    for policy in (pi_vi, pi_pi):
        chosen = Q[np.arange(len(Q)), np.asarray(policy)]
        np.testing.assert_allclose(chosen, Q.max(1), atol=1e-5)
    assert float(V_vi[0]) > 0  # the goal is reachable from the start


def test_optimal_deterministic_4x4_path_is_six_steps():
    V, _, _ = value_iteration(gridworld("4x4"))
    np.testing.assert_allclose(V[0], 0.99 ** 5, rtol=1e-5)  # reward 1 on the sixth move


def test_q_learning_finds_the_optimal_policy_on_the_deterministic_4x4():
    mdp = gridworld("4x4")
    V, _, _ = value_iteration(mdp)
    Q_star = np.asarray(q_values(mdp, V))
    train = jax.jit(jax.vmap(make_q_learning(mdp, num_steps=20_000)))
    Qs, returns = train(jax.random.split(jax.random.key(0), 4))
    reachable = np.asarray(V) > 0  # states from which the goal can be reached
    for Q in np.asarray(Qs):
        greedy = Q.argmax(1)
        chosen = Q_star[np.arange(16), greedy]
        np.testing.assert_allclose(chosen[reachable & ~np.asarray(mdp.terminal)],
                                   Q_star.max(1)[reachable & ~np.asarray(mdp.terminal)], atol=1e-4)
    late = np.asarray(returns)[:, -5000:]
    assert np.nanmean(late) > 0.8  # epsilon ends at 0.05, so most late episodes reach the goal


def test_value_figure(tmp_path):
    mdp = gridworld("8x8", slippery=True)
    V, policy, _ = value_iteration(mdp)
    path = plot_values("8x8", V, policy, str(tmp_path / "values.png"), "slippery 8x8")
    assert (tmp_path / "values.png").stat().st_size > 5_000 and path.endswith("values.png")


def chain(gamma):
    """State 0 -> 1 (reward 0) -> 2 (terminal, reward 1) with a single action."""
    P = jnp.zeros((3, 1, 3)).at[0, 0, 1].set(1.0).at[1, 0, 2].set(1.0).at[2, 0, 2].set(1.0)
    R = jnp.zeros((3, 1, 3)).at[1, 0, 2].set(1.0)
    return MDP(P, R, gamma, jnp.array([1.0, 0.0, 0.0]), jnp.array([False, False, True]))


def test_q_learning_updates_match_a_hand_run_of_the_watkins_rule():
    """On a deterministic two-step chain the run is the Q-learning update written out:
    Q(s, a) += lr_t (r + gamma max Q(s') - Q(s, a)) with lr_t linear from 0.5 to 0.1 over 8 steps,
    no bootstrap from the terminal state; every second step ends an episode of return 1."""
    num_steps, gamma = 8, 0.6
    Q, returns = jax.jit(make_q_learning(chain(gamma), num_steps=num_steps, learning_rate=0.5,
                                         final_learning_rate=0.1))(jax.random.key(0))
    q = np.zeros(3)
    for t in range(num_steps):
        lr = 0.5 + t / num_steps * (0.1 - 0.5)
        s = t % 2
        target = 0.0 + gamma * q[1] if s == 0 else 1.0
        q[s] += lr * (target - q[s])
    np.testing.assert_allclose(Q[:, 0], q, rtol=1e-5)
    np.testing.assert_array_equal(np.isfinite(returns), np.arange(num_steps) % 2 == 1)
    np.testing.assert_allclose(np.asarray(returns)[1::2], 1.0)


def test_q_learning_cuts_episodes_at_max_episode_steps():
    """A non-terminal self-loop paying 1: episodes end by the step limit only, each with return 3."""
    loop = MDP(jnp.ones((1, 1, 1)), jnp.ones((1, 1, 1)), 0.9, jnp.ones(1), jnp.array([False]))
    _, returns = jax.jit(make_q_learning(loop, num_steps=10, max_episode_steps=3))(jax.random.key(0))
    np.testing.assert_array_equal(np.isfinite(returns), np.arange(10) % 3 == 2)
    np.testing.assert_allclose(np.asarray(returns)[2::3], 3.0)


@pytest.mark.parametrize("epsilon, final_epsilon", [(1.0, 1.0), (0.0, 0.0), (1.0, 0.2)])
def test_q_learning_explores_with_the_scheduled_epsilon(epsilon, final_epsilon):
    """A one-step bandit: action 0 pays 1, action 1 pays 0. Once Q(0, 0) > 0 the greedy action is
    0, so the expected return per step is 1 - eps_t / 2 (a random action is the wrong one half
    the time); its mean over the linear schedule is 1 - (eps + final) / 4. 4000 steps x 4 seeds:
    standard error < 0.005."""
    P = jnp.zeros((2, 2, 2)).at[0, :, 1].set(1.0).at[1, :, 1].set(1.0)
    R = jnp.zeros((2, 2, 2)).at[0, 0, 1].set(1.0)
    bandit = MDP(P, R, 0.9, jnp.array([1.0, 0.0]), jnp.array([False, True]))
    train = make_q_learning(bandit, num_steps=4000, epsilon=epsilon, final_epsilon=final_epsilon)
    _, returns = jax.jit(jax.vmap(train))(jax.random.split(jax.random.key(0), 4))
    np.testing.assert_allclose(np.nanmean(returns), 1 - (epsilon + final_epsilon) / 4, atol=0.02)


def test_discount_and_value_iteration_stopping_arguments():
    """gridworld's gamma reaches the values (the 4x4 goal six moves away is worth gamma^5), and
    value iteration stops at `max_iters` (values after k Bellman backups, in NumPy) or at `tol`."""
    mdp = gridworld("4x4", gamma=0.5)
    V, _, _ = value_iteration(mdp)
    np.testing.assert_allclose(V[0], 0.5 ** 5, rtol=1e-5)
    P, R = np.asarray(mdp.P), np.asarray(mdp.expected_reward)
    v = np.zeros(16)
    for _ in range(4):
        v = (R + 0.5 * P @ v).max(axis=1)
    V4, _, iters = value_iteration(mdp, max_iters=4)
    assert int(iters) == 4
    np.testing.assert_allclose(V4, v, atol=1e-6)
    # with tol 0.1 it stops at the first backup changing no value by more than 0.1
    v, k = np.zeros(16), 0
    while True:
        new, k = (R + 0.5 * P @ v).max(axis=1), k + 1
        change, v = np.abs(new - v).max(), new
        if change <= 0.1:
            break
    assert int(value_iteration(mdp, tol=0.1)[2]) == k
    assert int(policy_iteration(mdp, max_iters=1)[2]) == 1
