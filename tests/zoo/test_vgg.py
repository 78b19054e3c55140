"""VGG-16: shapes, and the torchvision conversion against a randomly initialized torch model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.helpers import require_torch
from zoo import load_torchvision_vgg16
from zoo.vgg import VGG16, from_torchvision
from train.state import init_variables


def test_feature_shapes_and_layer_names():
    model = VGG16(include_top=False)
    x = jnp.zeros((1, 64, 64, 3))
    variables = jax.eval_shape(model.init, jax.random.key(0), x)
    assert sorted(variables["params"]) == sorted(f"conv{s}_{j}" for s, n in zip(range(1, 6), (2, 2, 3, 3, 3))
                                                 for j in range(1, n + 1))
    assert jax.eval_shape(model.apply, variables, x).shape == (1, 2, 2, 512)
    with pytest.raises(ValueError, match="at least 32x32"):
        init_variables(model, jax.random.key(0), jnp.zeros((1, 16, 16, 3)))


def test_conversion_names_what_is_missing():
    with pytest.raises(ValueError, match="features.0.weight"):
        from_torchvision({})


def _torch_vgg16():
    """torchvision's VGG-16 with random weights; where torchvision is not importable, a torch
    module with exactly its layers and state-dict keys (features.N, avgpool, classifier.N)."""
    torch = require_torch()
    try:
        import torchvision
        return torchvision.models.vgg16(weights=None)
    except (ImportError, RuntimeError):
        pass
    nn, layers, channels = torch.nn, [], 3
    for width, n in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(n):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            channels = width
        layers.append(nn.MaxPool2d(2, 2))

    class TorchvisionLayoutVGG16(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(nn.Linear(512 * 49, 4096), nn.ReLU(True), nn.Dropout(),
                                            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 1000))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    return TorchvisionLayoutVGG16()


# torchvision's VGG-16 state-dict keys (torchvision/models/vgg.py, cfg "D"): conv layers at these
# indices of `features`, dense layers at 0, 3, 6 of `classifier`.
TORCHVISION_KEYS = [f"{part}.{i}.{kind}" for part, indices in (("features", (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)),
                                                               ("classifier", (0, 3, 6)))
                    for i in indices for kind in ("weight", "bias")]


def test_a_torchvision_pth_file_gives_the_same_logits(tmp_path):
    torch_model = _torch_vgg16().eval()
    import torch

    torch.manual_seed(0)
    assert list(torch_model.state_dict()) == TORCHVISION_KEYS
    path = tmp_path / "vgg16-random.pth"
    torch.save(torch_model.state_dict(), path)
    # 80x80 leaves a 2x2 map before the 7x7 adaptive pool, so the pooling windows overlap.
    images = np.random.default_rng(0).uniform(size=(2, 80, 80, 3)).astype(np.float32)
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(((images - mean) / std).transpose(0, 3, 1, 2))).numpy()
    got = np.asarray(jax.jit(VGG16().apply)(load_torchvision_vgg16(str(path)), jnp.asarray(images)))
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got / scale, expected / scale, atol=1e-4)
