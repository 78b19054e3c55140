"""Reinforcement learning: tabular MDPs, value/policy iteration and Q-learning so far (DQN,
policy gradients and PPO come with their issue). Algorithms are pure functions of a key
(`make_*(...) -> train(rng)`), so seeds are vmapped."""

from rl.mdp import MAPS, MDP, gridworld, policy_evaluation, policy_iteration, q_values, value_iteration
from rl.tabular import make_q_learning

__all__ = ["MAPS", "MDP", "gridworld", "make_q_learning", "policy_evaluation", "policy_iteration", "q_values",
           "value_iteration"]
