"""The shipped checkpoints decode and encode exactly as they did when they were trained.

tests/reference/shipped_outputs.safetensors was written by ``python -m tests.shipped_reference``
with the code the checkpoints were shipped with; a refactor of the model, its likelihoods or the
checkpoint loader must not move these numbers (float32 noise of another CPU aside).

Summing in another order (another CPU's vector width, another thread count) moves an output in
proportion to its size. The decoder's logits are unbounded (up to 64 here): on an AMD EPYC with
AVX-512 VNNI, one thread, they moved by up to 1.9e-5 (3e-7 of their largest magnitude) and an
absolute bound of 1e-5 failed. They are held to a bound relative to their scale; the other outputs,
which stay small, keep their absolute bounds.
"""

import pytest
from safetensors.torch import load_file

from tests.shipped_reference import REFERENCE, SHIPPED, outputs

#: How far an output may move (absolute)
TOLERANCE = {"images": 1e-6, "mu": 1e-5, "logvar": 1e-5, "log_px": 1e-3}
#: How far the logits may move, as a fraction of their largest reference magnitude (1.7e-5 to 6.4e-5
#: for the four checkpoints): 3x the worst float32 noise seen
LOGITS_TOLERANCE = 1e-6


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_outputs_do_not_change(name):
    reference = load_file(str(REFERENCE))
    now = outputs(name)
    assert set(now) == {k for k in reference if k.startswith(f"{name}/")}
    for key, value in now.items():
        ref = reference[key]
        assert value.shape == ref.shape, f"{key}: shape {tuple(value.shape)}, reference {tuple(ref.shape)}"
        worst = (value - ref).abs().max().item()
        kind = key.split("/")[1]
        tol = LOGITS_TOLERANCE * ref.abs().max().item() if kind == "logits" else TOLERANCE[kind]
        assert worst <= tol, f"{key} moved by {worst:.3g} (allowed {tol:.3g})"
