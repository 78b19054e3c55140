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
