"""DQN with a replay buffer, a target network, annealed epsilon-greedy exploration and a squared or Huber TD loss."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Returns the default DQN config; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.env = "CartPole-v1"          # gymnax environment with discrete actions
    c.total_steps = 500_000        # environment steps per seed
    c.num_envs = 8                 # environments stepped together (vmap)
    c.buffer_size = 10_000         # replay capacity (transitions)
    c.batch_size = 128             # transitions per gradient step
    c.learning_starts = 10_000     # transitions stored before learning begins
    c.train_every = 1              # iterations (of num_envs steps) between gradient steps
    c.learning_rate = 1e-4         # Adam step size
    c.anneal_lr = False            # decay the learning rate linearly to 0 over the gradient steps
    c.gamma = 0.99                 # discount
    c.double = True                # Double DQN: the online network picks a*, the target evaluates it
    c.loss = "mse"                 # "mse" or "huber"
    c.huber_delta = 1.0            # Huber threshold when loss="huber"
    c.max_grad_norm = 10.0         # global-norm gradient clipping; 0 turns it off
    c.target_every = 8             # environment steps between target refreshes (8: every iteration)
    c.tau = 0.01                   # < 1: Polyak averaging; 1: copy the online network
    c.epsilon_start = 1.0          # exploration at the start
    c.epsilon_end = 0.05           # exploration after the annealing
    c.exploration_fraction = 0.5   # share of total_steps over which epsilon anneals linearly
    c.hidden = (120, 84)           # Q-network widths
    c.log_every = 5_000            # environment steps per row of metrics
    return c
