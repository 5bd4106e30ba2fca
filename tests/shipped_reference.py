"""The reference outputs of the shipped checkpoints: what tests/vae/test_shipped_outputs.py holds them to.

``python -m tests.shipped_reference`` rewrites tests/reference/shipped_outputs.safetensors; run it
only when a shipped checkpoint is retrained on purpose (never to make the test pass).
``python -m tests.shipped_reference NAME ...`` writes only those checkpoints' outputs (a new or
retrained one) and keeps every other checkpoint's reference tensors exactly as they were.
"""

from __future__ import annotations

from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference" / "shipped_outputs.safetensors"
SHIPPED = ["fashion-mnist", "fashion-mnist-2d", "fashion-mnist-beta4", "digits", "emoji"]
N = 6  # codes decoded and test images encoded per checkpoint


def outputs(name: str) -> dict[str, torch.Tensor]:
    """Decoder logits and images of N seeded codes; mu, logvar and log p(x|z=mu) of N test images."""
    from vae.checkpoint import load_checkpoint
    from vae.data.datasets import load_dataset

    ck = load_checkpoint(ROOT / "checkpoints" / name)
    model = ck.model
    z = torch.randn(N, ck.config.latent_dim, generator=torch.Generator().manual_seed(7))
    x = load_dataset(ck.dataset, "test", download=False).images[:N]
    with torch.no_grad():
        logits = model.decode(z)
        images = model.decode_mean(z)
        mu, logvar = model.encode(x)
        log_px = model.log_likelihood(model.decode(mu), x)
    return {f"{name}/{k}": v.float().contiguous() for k, v in
            {"logits": logits, "images": images, "mu": mu, "logvar": logvar, "log_px": log_px}.items()}


def main(only: list[str] | None = None) -> None:
    from safetensors.torch import load_file, save_file

    unknown = sorted(set(only or ()) - set(SHIPPED))
    if unknown:
        raise SystemExit(f"not in SHIPPED: {', '.join(unknown)}; add them to SHIPPED first")
    tensors: dict[str, torch.Tensor] = {}
    if only and REFERENCE.is_file():  # the others' references stay as they were made
        tensors = {k: v for k, v in load_file(str(REFERENCE)).items() if k.split("/")[0] not in only}
    for name in only or SHIPPED:
        tensors.update(outputs(name))
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(REFERENCE), metadata={"made_by": "python -m tests.shipped_reference"})
    print(f"wrote {len(tensors)} tensors to {REFERENCE}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:] or None)
