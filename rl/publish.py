"""Ship a trained CartPole policy as a `zoo.pretrained` folder (`python -m train publish ppo|dqn`).

The network of one seed, trained by `python -m rl ALGO` with the algorithm's default config, is
written under `zoo/weights/NAME/`; its card's headline is the mean return of its greedy policy
(argmax action) over `EPISODES` episodes from the fixed key `EVAL_SEED`, which anyone can
recompute from the folder alone with `greedy_return_of`.
"""

import os

EPISODES, EVAL_SEED = 100, 0
DESCRIPTIONS = {"ppo": "PPO actor-critic (two 64-unit tanh MLPs) on CartPole-v1; the policy's argmax acts",
                "dqn": "Double DQN Q-network (120-84 MLP) on CartPole-v1; the Q-values' argmax acts"}


def greedy_return_of(algo: str, module, variables, env_name: str = "CartPole-v1") -> float:
    """Mean return of the greedy policy of `module` over `EPISODES` episodes from key `EVAL_SEED`.

    Args:
        algo: `"ppo"` (the module returns `(logits, value)`) or `"dqn"` (it returns Q-values).
        module: The policy's `nn.Module`, applied to `(episodes, obs_dim)` observations.
        variables: Its variables.
        env_name: The gymnax environment.
    """
    import jax

    from rl.envs import greedy_return, make_env, policy_argmax, q_argmax

    env, env_params, _ = make_env(env_name)
    act = (policy_argmax if algo == "ppo" else q_argmax)(module.apply, variables)
    return float(jax.jit(lambda key: greedy_return(env, env_params, act, key, EPISODES))(jax.random.key(EVAL_SEED)))


def publish(algo: str, name: str, workdir: str, directory: str, progress: bool = True) -> str:
    """Train (or reuse) one seed of `algo` with its default config in `workdir`; write `directory/name`.

    Returns:
        The line `python -m train publish` prints.
    """
    import jax

    from rl import dqn, ppo
    from rl.cli import config_json, config_of, run
    from rl.envs import make_env
    from train import publish as shipping
    from train.checkpoint import Checkpointer
    from zoo import pretrained

    config = config_of(algo)
    summary = run(algo, config, 1, workdir, progress=progress)
    _, _, num_actions = make_env(config.env)
    module = (ppo if algo == "ppo" else dqn).make_network(config, num_actions)
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
    abstract = jax.eval_shape(jax.vmap(module.init), jax.random.split(jax.random.key(0), 1),
                              jax.numpy.zeros((1, 1, *env_observation_shape(config.env))))
    params, _ = ckpt.restore(abstract)
    ckpt.close()
    variables = jax.tree.map(lambda x: x[0], jax.device_get(params))
    headline = greedy_return_of(algo, module, variables, config.env)
    regenerate = f"python -m train publish {algo} --name {name}"
    card = {
        "name": name, "recipe": algo, "regenerate": regenerate, "recipe_config": config_json(config),
        "description": DESCRIPTIONS[algo],
        "task_meta": {"env": config.env, "shapes": {"inputs": list(env_observation_shape(config.env))},
                      "evaluation": {"episodes": EPISODES, "key": EVAL_SEED, "policy": "argmax"}},
        "apply_kwargs": {},
        "metrics": {"greedy_return": round(headline, 6),
                    "final_training_return": round(summary["final_return"]["mean"], 6)},
        "headline": {"metric": "greedy_return", "value": round(headline, 1), "decimals": 1},
        "training_steps": summary["env_steps_per_seed"],
        "commit": shipping._commit(), "config_sha256": shipping.config_sha256(algo),
        "code_sha256": shipping.code_sha256(type(module)),
    }
    data = (f"no dataset: {config.env} from gymnax, simulated. `greedy_return` is the mean undiscounted return of the "
            f"argmax policy over {EPISODES} episodes (500 is the most an episode can give), started from "
            f"`jax.random.key({EVAL_SEED})`; `final_training_return` the sampled policy's over the last 5% of "
            "training updates.")
    readme = shipping.model_card(card, module, f"`python -m rl {algo}`", data, f"{EPISODES} greedy episodes, one seed")
    folder = os.path.join(directory, name)
    pretrained.save(folder, module, variables, card, readme)
    return f"{name}: greedy_return {card['headline']['value']} | {folder}"


def env_observation_shape(env_name: str) -> tuple:
    """The shape of one observation of the gymnax environment `env_name`."""
    import jax

    from rl.envs import make_env

    env, env_params, _ = make_env(env_name)
    return tuple(jax.eval_shape(lambda key: env.reset(key, env_params)[0], jax.random.key(0)).shape)
