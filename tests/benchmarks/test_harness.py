"""The benchmark harness runs and reports; speed itself is never asserted here."""

import json
import re
import subprocess
import sys

import jax
import pytest

from benchmarks.harness import benchmark, format_table, hardware_view
from benchmarks.workloads import WORKLOADS
from tests.helpers import require_torch


def test_report_has_throughput_and_ratio_per_workload():
    report = benchmark(["digits_cnn"], steps=2, warmup=1, repeats=1)
    rows = report["results"]
    assert rows[0]["framework"] == "jax" and rows[0]["items_per_s"] > 0 and rows[0]["compile_s"] > 0
    assert rows[0]["unit"] == "images" and rows[0]["items_per_step"] == 128
    # hardware view: XLA's cost analysis (a CNN step does real work) and measured CPU peaks
    assert rows[0]["flops"] > 1e8 and rows[0]["bytes"] > 0
    assert 0 < rows[0]["flop_fraction_of_peak"] and report["peaks"]["fp32"] > 0
    assert "hardware view" in format_table(report)
    try:
        import torch  # noqa: F401
    except ImportError:
        assert len(rows) == 1 and rows[0]["jax_over_torch"] is None
        assert "pip install -e '.[bench]'" in format_table(report)
    else:
        assert rows[1]["framework"].startswith("torch")
        assert rows[0]["jax_over_torch"] == pytest.approx(rows[0]["items_per_s"] / rows[1]["items_per_s"])
    assert "digits_cnn" in format_table(report)


def test_hardware_view_counts_model_flops_of_a_convolution():
    """SAME 3x3 convolution, 128 x 32x32 x 64 -> 64 channels: along each spatial axis 3 * 32 - 2
    (output, tap) pairs fall inside the image, so it does 2 * 128 * 94^2 * 64 * 64 FLOPs."""
    _, _, compiled, lowered = WORKLOADS["conv3x3_lax"].jax_step()
    view = hardware_view(compiled, lowered, 0.5, "cpu", "conv3x3_lax")
    assert view["flops"] == 2 * 128 * 94 ** 2 * 64 * 64
    assert view["flop_per_s"] == view["flops"] / 0.5 and view["bytes"] >= 2 * 128 * 32 * 32 * 64 * 4  # input + output


def test_every_workload_has_a_torch_twin_with_the_same_parameter_count():
    require_torch()
    import jax.numpy as jnp

    import zoo
    from benchmarks.peers.torch_nets import TorchCharLSTM, TorchCNN, TorchResNet

    lm = zoo.ManyToMany(96, "lstm", 512, vocab_size=96, embed_dim=128)
    pairs = {"digits_cnn": (zoo.CNN(), TorchCNN(), jnp.zeros((1, 8, 8, 1)), 0),
             "resnet20": (zoo.resnet_cifar(20), TorchResNet(20), jnp.zeros((1, 32, 32, 3)), 0),
             "resnet56": (zoo.resnet_cifar(56), TorchResNet(56), jnp.zeros((1, 32, 32, 3)), 0),
             # nn.LSTM has a second bias vector (b_hh, 4 * hidden) that ours folds into one.
             "lstm_lm": (lm, TorchCharLSTM(), jnp.zeros((1, 4), jnp.int32), 4 * 512)}
    with_twin = {name for name, w in WORKLOADS.items() if w.torch_step is not None}
    assert {re.sub(r"_(f32|bf16|fp16)$", "", name) for name in with_twin} == set(pairs)  # precision variants share
    for flax_model, torch_model, example, extra in pairs.values():
        params = jax.eval_shape(flax_model.init, jax.random.key(0), example)["params"]
        ours = sum(x.size for x in jax.tree.leaves(params))
        assert ours + extra == sum(p.numel() for p in torch_model.parameters()), type(torch_model).__name__


def test_cli_writes_json_and_rejects_unknown_workloads(tmp_path):
    out = tmp_path / "bench.json"
    ok = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "digits_cnn", "--steps", "1", "--warmup", "0",
                         "--repeats", "1", "--json", str(out)], capture_output=True, text=True,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(out.read_text())["results"][0]["workload"] == "digits_cnn"
    bad = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "nope"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "invalid choice: 'nope'" in bad.stderr


class FakeClock:
    """`perf_counter` of a clock that only moves when a step (or the compile) says so."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


def clocked_workload(clock, schedule, compile_s=7.0, items=64, cost=1):
    """A Workload whose JAX (and torch) step advances `clock` by the next duration of `schedule`;
    building the JAX step takes `compile_s`. The compiled program is a real (tiny) one, for the cost analysis."""
    import jax.numpy as jnp

    from benchmarks.workloads import Workload

    durations = iter(schedule)

    def step(carry):
        clock.now += next(durations)
        return carry + 1

    def jax_step():
        lowered = jax.jit(lambda v: v * 2.0).lower(jnp.ones(4))
        clock.now += compile_s
        return step, jnp.zeros(()), lowered.compile(), lowered

    return Workload("fake", "a clocked step", items, "images", jax_step, lambda device: (step, 0), cost)


def test_time_is_the_median_per_step_time_of_the_timed_repeats_after_warmup(monkeypatch):
    """Warm-up steps (100 s each) are not timed; three repeats of 4 steps at 1, 6 and 2 s a step: median 2 s
    (the mean would be 3)."""
    from benchmarks import harness

    clock = FakeClock()
    monkeypatch.setattr(harness, "time", clock)
    schedule = [100.0] * 2 + [1.0] * 4 + [6.0] * 4 + [2.0] * 4
    step = clocked_workload(clock, schedule).jax_step()[0]
    seconds, carry = harness._time(step, 0, steps=4, warmup=2, repeats=3, sync=lambda c: None)
    assert seconds == 2.0 and carry == 14  # and every step of the schedule ran, the warm-up's included


def test_throughput_compile_time_and_ratio_follow_the_clock(monkeypatch):
    """JAX steps of 0.5 s and torch steps of 2 s on 64 images: 128 and 32 images/s, ratio 4; compile 7 s;
    a workload of cost 2 runs half the steps (steps=4 -> 2 timed, warmup=2 -> 1)."""
    from benchmarks import harness

    require_torch()
    clock = FakeClock()
    monkeypatch.setattr(harness, "time", clock)
    jax_part, torch_part = [0.5] * (1 + 2 * 3), [2.0] * (1 + 2 * 3)  # warm-up 1, then 3 repeats of 2 steps
    workload = clocked_workload(clock, jax_part + torch_part, cost=2)
    monkeypatch.setitem(harness.WORKLOADS, "fake", workload)
    monkeypatch.setattr(harness, "hardware_view", lambda *a: {})  # measured CPU peaks would read the fake clock
    monkeypatch.setattr(harness, "device_peaks", lambda kind: None)
    jax_row, torch_row = harness.benchmark(["fake"], steps=4, warmup=2, repeats=3)["results"]
    assert jax_row["compile_s"] == 7.0 and jax_row["timed_steps"] == 2
    assert jax_row["step_ms"] == 500.0 and jax_row["items_per_s"] == 128.0
    assert torch_row["step_ms"] == 2000.0 and torch_row["items_per_s"] == 32.0
    assert jax_row["jax_over_torch"] == torch_row["jax_over_torch"] == 4.0
    assert jax.devices()[0].device_kind in jax_row["device"]
