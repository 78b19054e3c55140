"""Reinforcement learning: tabular MDPs and deep RL on gymnax environments.

Tabular MDPs are solved by value/policy iteration and Q-learning; deep RL on gymnax environments
uses DQN, REINFORCE, A2C and PPO. Every algorithm is a pure function of a key,
`make_*(config) -> train(rng)`, so seeds are vmapped: `jax.jit(jax.vmap(train))(keys)`;
`train_seeds` does that with a progress bar, `python -m rl` adds the files of a run.

Compilation: nothing in `rl` is jitted inside the library. Losses (`dqn.td_loss`, `ppo.ppo_loss`,
`pg.pg_loss`), advantage estimators and rollouts are pure and traced inside `train`; the one
`jax.jit` is the caller's, over the whole `train` (so a function argument such as `apply_fn`
is part of that single trace and never compiles on its own).
"""

from rl.cli import train_seeds
from rl.dqn import make_train as make_dqn
from rl.mdp import MAPS, MDP, gridworld, policy_evaluation, policy_iteration, q_values, value_iteration
from rl.pg import make_a2c, make_reinforce
from rl.ppo import make_train as make_ppo
from rl.tabular import make_q_learning

__all__ = ["MAPS", "MDP", "gridworld", "make_a2c", "make_dqn", "make_ppo", "make_q_learning", "make_reinforce",
           "policy_evaluation", "policy_iteration", "q_values", "train_seeds", "value_iteration"]
