"""Model quality of every shipped checkpoint, next to the baselines measured with it.

Read from each checkpoint's ``meta.json`` "metrics" (written by ``python -m vae evaluate``,
which measures the PCA and raw-pixel baselines in the same run); nothing is re-evaluated
here, since the IWAE bound alone takes minutes. Metrics that are not a complete evaluation
(``vae.evaluate.is_complete``) are marked PARTIAL in every record's note. A checkpoint without metrics gets one
record saying "not evaluated".
"""

from __future__ import annotations

import json
from pathlib import Path

from vae.evaluate import is_complete, settings_key

from .records import Record
from .settings import Settings

NAME = "quality"


def shipped_checkpoints(root: Path) -> list[Path]:
    """Checkpoint folders under ``root`` (those with a config.json), sorted by name."""
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "config.json").is_file())


def checkpoint_records(path: Path) -> list[Record]:
    name = path.name
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        meta = {}
    m = meta.get("metrics") if isinstance(meta, dict) else None
    if not isinstance(m, dict) or "recon_mse" not in m:
        return [Record(f"quality_{name}", None, None, "", 0, note="not evaluated (python -m vae evaluate)")]
    b = m.get("baselines") or {}
    n = int(m.get("n_images") or 0)
    latent = m.get("latent_dim")
    partial = "" if is_complete(m, meta) else f"; PARTIAL evaluation ({settings_key(m)})"
    recs = [
        Record(f"quality_{name}_recon_mse", m.get("recon_mse"), b.get("pca_recon_mse"), "MSE/pixel", n, "lower",
               ours_label=f"VAE (latent {latent}), decoded posterior mean",
               peer_label=f"PCA with {b.get('pca_components', latent)} components",
               note=("test split; peer = PCA of the same size" if b else "no PCA baseline in meta.json") + partial),
        Record(f"quality_{name}_knn_acc", m.get("knn_acc"), b.get("pixel_knn_acc"), "accuracy", n, "higher",
               ours_label=f"{m.get('knn_k', 5)}-NN on latent means", peer_label="same k-NN on raw pixels",
               note=f"fitted on {m.get('knn_fit', '?')}"
                    + (f"; PCA k-NN {b['pca_knn_acc']:.3f}" if "pca_knn_acc" in b else "") + partial,
               extra={"pca_knn_acc": b.get("pca_knn_acc")}),
        Record(f"quality_{name}_iwae", m.get("iwae_nll"), None, "nats", int(m.get("iwae_images") or 0), "lower",
               ours_label=f"IWAE bound on −log p(x), k = {m.get('iwae_k')}",
               note=(f"−ELBO {m['neg_elbo']:.1f} nats" if "neg_elbo" in m else "") + partial,
               extra={"neg_elbo": m.get("neg_elbo"), "iwae_k": m.get("iwae_k"),
                      "active_units": m.get("active_units")}),
    ]
    return recs


def run(settings: Settings) -> list[Record]:
    out: list[Record] = []
    for path in shipped_checkpoints(settings.checkpoint_root):
        out += checkpoint_records(path)
    return out
