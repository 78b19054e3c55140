import jax
import jax.numpy as jnp
import numpy as np

from zoo.parzen import choose_bandwidth, parzen_logits, parzen_params
from zoo.rbf import RBFNetwork
from train.state import init_variables


def test_rbf_units_are_gaussians_of_the_distance_to_their_centres():
    model = RBFNetwork(num_classes=3, num_centers=5, gamma_init=2.0)
    x = jax.random.uniform(jax.random.key(0), (4, 2, 3))
    params = init_variables(model, jax.random.key(1), x)["params"]
    flat = np.asarray(x).reshape(4, -1)
    c, gamma = np.asarray(params["centers"]), np.exp(np.asarray(params["log_gamma"]))
    np.testing.assert_allclose(gamma, 2.0 / 6, rtol=1e-6)
    phi = np.exp(-gamma[None] * ((flat[:, None] - c[None]) ** 2).sum(-1))
    expected = phi @ np.asarray(params["head"]["kernel"]) + np.asarray(params["head"]["bias"])[None]
    np.testing.assert_allclose(model.apply({"params": params}, x), expected, rtol=1e-4, atol=1e-5)


def test_rbf_falls_back_to_its_bias_far_from_every_centre():
    model = RBFNetwork(num_classes=3, num_centers=5)
    params = init_variables(model, jax.random.key(1), jnp.zeros((1, 4)))["params"]
    far = model.apply({"params": params}, jnp.full((1, 4), 100.0))
    np.testing.assert_allclose(far[0], params["head"]["bias"], atol=1e-6)


def test_parzen_logits_are_class_log_densities():
    points = np.array([[0.0], [1.0], [5.0]])
    labels = np.array([0, 0, 1])
    params = parzen_params(points, labels, 2, sigma=1.0)
    x = jnp.array([[0.5]])
    k = lambda d: np.exp(-d ** 2 / 2)
    expected = np.log([(k(0.5) + k(0.5)) / 2, k(4.5)])
    np.testing.assert_allclose(parzen_logits(params, x)[0], expected, rtol=1e-5)


def test_bandwidth_is_chosen_from_the_candidates_by_held_out_accuracy():
    # Two concentric rings: a very wide kernel sees only each class's mean squared radius and
    # calls everything the inner ring; a narrow one follows the rings.
    angle = np.random.default_rng(0).uniform(0, 2 * np.pi, 80)
    radius = np.repeat([1.0, 3.0], 40)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    y = np.repeat([0, 1], 40)
    assert choose_bandwidth(x, y, 2, [100.0, 0.5]) == 0.5
