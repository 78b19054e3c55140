"""Tabular Markov decision processes: gridworlds, policy evaluation, value and policy iteration.

An `MDP` holds `P[s, a, s']` (transition probabilities), `R[s, a, s']` (reward for that
transition), the discount and a start distribution; terminal states are absorbing with zero
reward. Gridworlds follow FrozenLake's conventions: maps of `S` (start), `F` (frozen floor),
`H` (hole, terminal), `G` (goal, terminal, reward 1 on arrival) and `W` (wall: moving into it
leaves the agent in place); actions 0 left, 1 down, 2 right, 3 up; on slippery ice the agent
moves in the intended direction or either perpendicular one with probability 1/3 each.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from train.figures import save_figure

ACTIONS = ((0, -1), (1, 0), (0, 1), (-1, 0))  # (row, col) steps for left, down, right, up

#: Bundled gridworld maps for `gridworld`: name -> tuple of row strings over `S`, `F`, `H`, `G`, `W`.
MAPS = {
    "4x4": ("SFFF", "FHFH", "FFFH", "HFFG"),
    "8x8": ("SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG"),
    "4x4_walls": ("SFFF", "FWWF", "FHFF", "HFWG"),
}


class MDP(NamedTuple):
    """A finite MDP with `S` states and `A` actions, as dense arrays.

    Attributes:
        P: `(S, A, S)` float32 transition probabilities `P[s, a, s']`.
        R: `(S, A, S)` float32 reward `R[s, a, s']` for that transition.
        gamma: Scalar discount factor.
        start: `(S,)` float32 start-state distribution.
        terminal: `(S,)` bool, true for absorbing zero-reward terminal states.
    """

    P: jax.Array
    R: jax.Array
    gamma: float
    start: jax.Array
    terminal: jax.Array

    @property
    def expected_reward(self):
        """Expected immediate reward `sum_s' P[s, a, s'] R[s, a, s']`, shape `(S, A)`."""
        return jnp.sum(self.P * self.R, axis=-1)


def gridworld(name_or_map="4x4", slippery: bool = False, gamma: float = 0.99) -> MDP:
    """Builds a FrozenLake-style gridworld from a bundled map name (`MAPS`) or a tuple of row strings.

    Args:
        name_or_map: A key of `MAPS`, or a sequence of equal-length row strings over `S`, `F`, `H`,
            `G`, `W` with exactly one `S`.
        slippery: If true, the agent moves in the intended direction or either perpendicular one with
            probability 1/3 each.
        gamma: Discount factor of the returned MDP.

    Returns:
        An `MDP` with `S = rows * cols` states (row-major) and 4 actions (left, down, right, up).

    Raises:
        ValueError: If the map name is unknown, or the map has other characters or not exactly one `S`.
    """
    if isinstance(name_or_map, str) and name_or_map not in MAPS:
        raise ValueError(f"unknown map '{name_or_map}'; bundled maps: {', '.join(MAPS)}")
    rows = MAPS[name_or_map] if isinstance(name_or_map, str) else tuple(name_or_map)
    grid = np.array([list(r) for r in rows])
    if set(grid.ravel()) - set("SFHGW") or (grid == "S").sum() != 1:
        raise ValueError("a map is rows of S, F, H, G, W with exactly one S")
    n_rows, n_cols = grid.shape
    S, A = grid.size, len(ACTIONS)
    P = np.zeros((S, A, S))
    R = np.zeros((S, A, S))
    terminal = np.isin(grid.ravel(), ["H", "G"])
    for s in range(S):
        r, c = divmod(s, n_cols)
        for a in range(A):
            if terminal[s] or grid[r, c] == "W":
                P[s, a, s] = 1.0
                continue
            outcomes = [(a - 1) % 4, a, (a + 1) % 4] if slippery else [a]
            for move in outcomes:
                dr, dc = ACTIONS[move]
                nr, nc = min(max(r + dr, 0), n_rows - 1), min(max(c + dc, 0), n_cols - 1)
                if grid[nr, nc] == "W":
                    nr, nc = r, c
                s2 = nr * n_cols + nc
                P[s, a, s2] += 1.0 / len(outcomes)
                R[s, a, s2] = float(grid[nr, nc] == "G")
    start = (grid.ravel() == "S").astype(np.float32)
    return MDP(jnp.asarray(P, jnp.float32), jnp.asarray(R, jnp.float32), gamma, jnp.asarray(start),
               jnp.asarray(terminal))


def q_values(mdp: MDP, V):
    """Computes action values `Q(s, a) = sum_s' P[s, a, s'] (R[s, a, s'] + gamma V(s'))`.

    Args:
        mdp: The MDP.
        V: `(S,)` float state values.

    Returns:
        `(S, A)` float action values.
    """
    return mdp.expected_reward + mdp.gamma * mdp.P @ V


def policy_evaluation(mdp: MDP, policy):
    """Evaluates a deterministic policy exactly by solving `(I - gamma P_pi) V = R_pi`.

    Args:
        mdp: The MDP.
        policy: `(S,)` int action per state.

    Returns:
        `V_pi`, the `(S,)` float state values of `policy`.
    """
    idx = jnp.arange(mdp.P.shape[0])
    P_pi, R_pi = mdp.P[idx, policy], mdp.expected_reward[idx, policy]
    return jnp.linalg.solve(jnp.eye(len(idx)) - mdp.gamma * P_pi, R_pi)


def value_iteration(mdp: MDP, tol: float = 1e-10, max_iters: int = 100_000):
    """Solves an MDP by value iteration: Bellman optimality backups in a `lax.while_loop`.

    Backups run until the largest change is below `tol` (or `max_iters`); the policy is greedy
    in the final values.

    Args:
        mdp: The MDP.
        tol: Stopping threshold on the largest absolute change of `V` in one backup.
        max_iters: Maximum number of backups.

    Returns:
        A tuple `(V, policy, iterations)`: `(S,)` float values, `(S,)` int greedy policy and the
        number of backups run.
    """
    def cond(carry):
        _, delta, i = carry
        return (delta > tol) & (i < max_iters)

    def body(carry):
        V, _, i = carry
        V_new = q_values(mdp, V).max(axis=1)
        return V_new, jnp.max(jnp.abs(V_new - V)), i + 1

    V, _, iters = jax.lax.while_loop(cond, body, (jnp.zeros(mdp.P.shape[0]), jnp.inf, 0))
    return V, jnp.argmax(q_values(mdp, V), axis=1), iters


def policy_iteration(mdp: MDP, max_iters: int = 1_000):
    """Solves an MDP by policy iteration in a `lax.while_loop` until the policy is stable.

    Each step is an exact evaluation by a linear solve, then greedy improvement. Improvement keeps
    the current action unless another is better by more than 1e-9, so ties cannot make it cycle.

    Args:
        mdp: The MDP.
        max_iters: Maximum number of improvement steps.

    Returns:
        A tuple `(V, policy, iterations)`: `(S,)` float values of the final policy, `(S,)` int
        policy and the number of improvement steps run.
    """
    def improve(policy):
        V = policy_evaluation(mdp, policy)
        Q = q_values(mdp, V)
        current = jnp.take_along_axis(Q, policy[:, None], axis=1)[:, 0]
        return jnp.where(Q.max(axis=1) > current + 1e-9, jnp.argmax(Q, axis=1), policy)

    def cond(carry):
        policy, previous, i = carry
        return jnp.any(policy != previous) & (i < max_iters)

    def body(carry):
        policy, _, i = carry
        return improve(policy), policy, i + 1

    zeros = jnp.zeros(mdp.P.shape[0], jnp.int32)
    policy, _, iters = jax.lax.while_loop(cond, body, (improve(zeros), zeros, 1))
    return policy_evaluation(mdp, policy), policy, iters


def plot_values(mdp_map, V, policy, path: str, title: str = "") -> str:
    """Plots a heatmap of `V` on the grid with arrows for `policy` (none on terminal cells or walls).

    Args:
        mdp_map: A key of `MAPS` or a sequence of row strings.
        V: `(S,)` state values.
        policy: `(S,)` int actions.
        path: Where to save the figure.
        title: Figure title.

    Returns:
        `path`, where the figure was saved.
    """
    import matplotlib.pyplot as plt

    rows = MAPS[mdp_map] if isinstance(mdp_map, str) else mdp_map
    grid = np.array([list(r) for r in rows])
    n_rows, n_cols = grid.shape
    fig, ax = plt.subplots(figsize=(0.8 * n_cols + 1.5, 0.8 * n_rows + 0.6))
    image = ax.imshow(np.asarray(V).reshape(n_rows, n_cols), cmap="viridis")
    fig.colorbar(image, ax=ax, fraction=0.046)
    for s, a in enumerate(np.asarray(policy)):
        r, c = divmod(s, n_cols)
        if grid[r, c] in "HGW":
            ax.text(c, r, grid[r, c], ha="center", va="center", color="white", fontsize=12, weight="bold")
            continue
        dr, dc = ACTIONS[a]
        ax.arrow(c - 0.25 * dc, r - 0.25 * dr, 0.3 * dc, 0.3 * dr, head_width=0.15, color="white")
    ax.set(xticks=[], yticks=[], title=title)
    fig.tight_layout()
    return save_figure(fig, path)
