"""The shipped checkpoints decode and encode exactly as they did when they were trained.

tests/reference/shipped_outputs.safetensors was written by ``python -m tests.shipped_reference``
with the code the checkpoints were shipped with; a refactor of the model, its likelihoods or the
checkpoint loader must not move these numbers (float32 noise of another CPU aside).
"""

import pytest
from safetensors.torch import load_file

from tests.shipped_reference import REFERENCE, SHIPPED, outputs

TOLERANCE = {"images": 1e-6, "logits": 1e-5, "mu": 1e-5, "logvar": 1e-5, "log_px": 1e-3}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_outputs_do_not_change(name):
    reference = load_file(str(REFERENCE))
    now = outputs(name)
    assert set(now) == {k for k in reference if k.startswith(f"{name}/")}
    for key, value in now.items():
        ref = reference[key]
        assert value.shape == ref.shape, f"{key}: shape {tuple(value.shape)}, reference {tuple(ref.shape)}"
        worst = (value - ref).abs().max().item()
        tol = TOLERANCE[key.split("/")[1]]
        assert worst <= tol, f"{key} moved by {worst:.3g} (allowed {tol:g})"
