"""The shipped checkpoints decode and encode exactly as they did when they were trained.

tests/reference/shipped_outputs.safetensors was written by ``python -m tests.shipped_reference``
with the code the checkpoints were shipped with; a refactor of the model, its likelihoods or the
checkpoint loader must not move these numbers (float32 noise of another CPU aside).

The noise is measured against each tensor's scale (its largest reference magnitude): summing in
another order (another CPU's vector width, another thread count) moves a logit of 60 by ~2e-5 but a
pixel of 0.4 by ~4e-7. On an AMD EPYC with AVX-512 VNNI, one thread, the worst seen was 3e-7 of
the scale (fashion-mnist-2d's logits: 1.9e-5 of 64); an absolute bound of 1e-5 failed there.
"""

import pytest
from safetensors.torch import load_file

from tests.shipped_reference import REFERENCE, SHIPPED, outputs

#: How far an output may move, as a fraction of its tensor's largest reference magnitude: 30x the
#: worst float32 noise seen, and still fine enough that scaling the first encoder layer's weights by
#: 1.0001 fails every checkpoint (mu moves by 4e-5 to 2e-4 of its scale)
RELATIVE_TOLERANCE = 1e-5


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_outputs_do_not_change(name):
    reference = load_file(str(REFERENCE))
    now = outputs(name)
    assert set(now) == {k for k in reference if k.startswith(f"{name}/")}
    for key, value in now.items():
        ref = reference[key]
        assert value.shape == ref.shape, f"{key}: shape {tuple(value.shape)}, reference {tuple(ref.shape)}"
        worst = (value - ref).abs().max().item()
        tol = RELATIVE_TOLERANCE * ref.abs().max().item()
        assert worst <= tol, f"{key} moved by {worst:.3g} (allowed {tol:.3g}: {RELATIVE_TOLERANCE:g} of its scale)"
