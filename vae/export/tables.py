"""Export latent codes: CSV, or TensorBoard's Embedding Projector files."""

from __future__ import annotations

import csv
import io
import math
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..checkpoint import Checkpoint
from ..data.datasets import ImageDataset
from ..data.images import image_grid
from ..errors import ConfigError
from ..explore.attributes import Attributes

#: The Embedding Projector accepts sprites of at most 8192 x 8192 pixels.
MAX_SPRITE_SIDE = 8192


def latent_table(mu: np.ndarray, labels: np.ndarray, class_names: list[str],
                 indices: np.ndarray | None = None) -> str:
    """CSV text: index, label, class, z0..z{D-1} (posterior means)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    d = mu.shape[1]
    w.writerow(["index", "label", "class", *[f"z{i}" for i in range(d)]])
    idx = indices if indices is not None else np.arange(len(mu))
    for i, y, row in zip(idx, labels, mu, strict=True):
        name = class_names[int(y)] if 0 <= int(y) < len(class_names) else str(int(y))
        w.writerow([int(i), int(y), name, *[f"{v:.6g}" for v in row]])
    return buf.getvalue()


def attribute_table(mu: np.ndarray, labels: np.ndarray, class_names: list[str], attributes: Attributes | None,
                    indices: np.ndarray | None = None) -> str:
    """:func:`latent_table` (index, label, class, z0..) with the attributes' columns after it, under their
    own headers: :func:`vae.explore.attributes.read_attributes` reads it back."""
    idx = np.arange(len(mu)) if indices is None else np.asarray(indices, dtype=np.int64)
    table = latent_table(mu, labels, class_names, idx)
    if attributes is None or not attributes.columns:
        return table
    values = attributes.subset(idx)
    lines = table.splitlines()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(attributes.headers[c] for c in values)
    extra = [buf.getvalue().rstrip("\n")]
    for k in range(len(idx)):
        buf.seek(0)
        buf.truncate()
        w.writerow(_cell(v[k]) for v in values.values())
        extra.append(buf.getvalue().rstrip("\n"))
    return "".join(f"{a},{b}\n" for a, b in zip(lines, extra, strict=True))


def _cell(v) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(float(v))
    return str(v)


@contextmanager
def output_folder(out: str | Path) -> Iterator[Path]:
    """The folder ``out``, created when missing. When the body fails, the folders created here
    are removed again with whatever was written into them: a failed export leaves nothing behind."""
    out = Path(out)
    top = None  # the outermost folder this call creates
    for p in (out, *out.parents):
        if p.exists():
            break
        top = p
    out.mkdir(parents=True, exist_ok=True)
    try:
        yield out
    except BaseException:
        if top is not None:
            shutil.rmtree(top, ignore_errors=True)
        raise


def export_csv(ck: Checkpoint, data: ImageDataset, out: str | Path, attributes: Attributes | None = None) -> list[Path]:
    """Write ``latents.csv`` (posterior means + labels, and the ``attributes``' columns) into the folder ``out``."""
    mu, _ = ck.model.embed(data.images)
    text = attribute_table(mu.numpy(), data.labels.numpy(), data.class_names, attributes)
    with output_folder(out) as folder:
        path = folder / "latents.csv"
        path.write_text(text, encoding="utf-8")
    return [path]


def export_projector(ck: Checkpoint, data: ImageDataset, out: str | Path) -> list[Path]:
    """Write tensors.tsv, metadata.tsv, sprite.png and projector_config.pbtxt into ``out``.

    Load them in https://projector.tensorflow.org ("Load") or TensorBoard's projector.
    Everything is computed before the folder is touched, and a failure while writing removes
    the folder again when this call created it.
    """
    n = len(data)
    _, h, w = data.image_shape
    ncol = math.ceil(math.sqrt(n))
    if ncol * max(h, w) > MAX_SPRITE_SIDE:
        raise ConfigError(
            f"{n} images of {h}x{w} do not fit the projector's {MAX_SPRITE_SIDE}px sprite; "
            f"export at most {(MAX_SPRITE_SIDE // max(h, w)) ** 2} (use --limit)"
        )
    mu, _ = ck.model.embed(data.images)
    lines = ["index\tlabel\tclass"]
    for i, y in enumerate(data.labels.tolist()):
        name = data.class_names[y] if 0 <= y < len(data.class_names) else str(y)
        lines.append(f"{i}\t{y}\t{name}")
    texts = {
        "tensors.tsv": "\n".join("\t".join(f"{v:.6g}" for v in row) for row in mu.tolist()) + "\n",
        "metadata.tsv": "\n".join(lines) + "\n",
        "projector_config.pbtxt": (
            "embeddings {\n"
            '  tensor_path: "tensors.tsv"\n'
            '  metadata_path: "metadata.tsv"\n'
            "  sprite {\n"
            '    image_path: "sprite.png"\n'
            f"    single_image_dim: {w}\n"
            f"    single_image_dim: {h}\n"
            "  }\n"
            "}\n"
        ),
    }
    sprite = image_grid(data.images, ncol=ncol, pad=0)
    with output_folder(out) as folder:
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")
        sprite.save(folder / "sprite.png")
    return [folder / name for name in ("tensors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt")]
