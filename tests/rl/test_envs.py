"""`rl.envs.make_rollout` on CartPole against the environment's definition: the time limit
truncates (done, not terminated), a pole past 12 degrees terminates, the stored next observation
at an episode end is the true last one (the CartPole Euler step written out in NumPy), not the
next episode's first, and the finished-episode bookkeeping counts both kinds of ending."""

import jax
import jax.numpy as jnp
import numpy as np

from rl.envs import make_env, make_rollout, reset_envs


def cartpole_step(state, action, p):
    """One Euler step of CartPole (Barto, Sutton & Anderson 1983; gym's constants) in NumPy."""
    x, x_dot, theta, theta_dot = state
    force = p.force_mag if action == 1 else -p.force_mag
    temp = (force + p.polemass_length * theta_dot ** 2 * np.sin(theta)) / p.total_mass
    theta_acc = (p.gravity * np.sin(theta) - np.cos(theta) * temp) / (
        p.length * (4.0 / 3.0 - p.masspole * np.cos(theta) ** 2 / p.total_mass))
    x_acc = temp - p.polemass_length * theta_acc * np.cos(theta) / p.total_mass
    return np.array([x + p.tau * x_dot, x_dot + p.tau * x_acc, theta + p.tau * theta_dot,
                     theta_dot + p.tau * theta_acc])


def test_rollout_separates_time_limit_truncation_from_termination():
    env, params, _ = make_env("CartPole-v1")
    params = params.replace(max_steps_in_episode=3)
    probs = jnp.array([0.3, 0.7])
    apply_fn = lambda _, obs: (jnp.log(jnp.tile(probs[None], (obs.shape[0], 1))), obs[:, 2])  # value: the angle
    obs, state = reset_envs(env, params, jax.random.key(0), 2)
    # environment 1 starts with the pole falling fast at 0.2 rad: its first step passes 12 degrees
    state = state.replace(theta=state.theta.at[1].set(0.2), theta_dot=state.theta_dot.at[1].set(2.0))
    obs = obs.at[1, 2].set(0.2).at[1, 3].set(2.0)
    rollout = jax.jit(make_rollout(env, params, apply_fn, num_envs=2, num_steps=7))
    (_, last_obs, running), traj, finished = rollout(None, state, obs, jnp.zeros(2), jax.random.key(1))
    # env 0: truncated after steps 2 and 5; env 1: terminated at step 0, then truncated after 3 and 6
    done = np.zeros((7, 2))
    done[[2, 5], 0] = 1.0
    done[[0, 3, 6], 1] = 1.0
    terminated = np.zeros((7, 2))
    terminated[0, 1] = 1.0
    np.testing.assert_array_equal(traj.done, done)
    np.testing.assert_array_equal(traj.terminated, terminated)
    o, nxt, a = np.asarray(traj.obs), np.asarray(traj.next_obs), np.asarray(traj.action)
    for t in range(7):
        for e in range(2):
            np.testing.assert_allclose(nxt[t, e], cartpole_step(o[t, e], a[t, e], params), rtol=1e-5, atol=1e-6)
            following = o[t + 1, e] if t < 6 else np.asarray(last_obs)[e]
            if done[t, e]:  # the next episode's first observation is not the last one
                assert not np.allclose(following, nxt[t, e], atol=1e-3)
            else:
                np.testing.assert_allclose(following, nxt[t, e], rtol=1e-6)
    np.testing.assert_allclose(traj.log_prob, np.log(np.asarray(probs))[a], rtol=1e-6)
    np.testing.assert_allclose(traj.value, o[:, :, 2])
    np.testing.assert_array_equal(traj.reward, np.ones((7, 2)))
    # episodes that ended: returns 3, 3 (env 0) and 1, 3, 3 (env 1); env 0's third episode has 1 step so far
    assert (float(finished[0]), int(finished[1])) == (13.0, 5)
    np.testing.assert_array_equal(running, [1.0, 0.0])
