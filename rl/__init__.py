"""MDPs, tabular methods, DQN and policy gradients (see the open issues)."""
