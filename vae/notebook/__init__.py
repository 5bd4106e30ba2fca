"""The explorer from a notebook: ``session = vae.explore(target, dataset=...)``, then ``session``.

The same app (app.py: frame/ around pages/), run the way FiftyOne's ``launch_app`` runs its own: one background
server per Python process (a Jupyter kernel, :mod:`vae.notebook.server`), shown inline as an
``<iframe>`` (the session as a cell's last expression, or ``session.show()``), and the Map's current
selection read back as indices (``session.selection``) from a file the page rewrites
(:mod:`vae.notebook.exchange`). Later calls reuse the server, each adding its checkpoint to the
sidebar's picker. The server stops at the last ``session.close()``, or when the process exits.

Targets: a checkpoint folder, a loaded :class:`~vae.checkpoint.Checkpoint`, one of our
:class:`~vae.model.VAE` models or any other ``nn.Module`` VAE that :func:`vae.byo.export_vae` reads
(``encode``/``decode`` methods, or pythae's ``encoder``/``decoder``) with ``dataset=``. A model is
saved once per content hash under the cache's ``notebook/`` folder: ours with
:func:`~vae.checkpoint.save_checkpoint`, another through :func:`vae.byo.export_vae` (ONNX graphs, no
evaluation, a PCA map).
"""

from __future__ import annotations

import hashlib
import html
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import torch
from torch import nn

from ..checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from ..data.cache import DEFAULT_CACHE_DIR
from ..data.datasets import canonical_dataset_name, check_dataset_name, dataset_available, load_dataset
from ..errors import CheckpointError, DataError
from ..model import VAE
from . import exchange
from . import server as servers

SPLITS = ("test", "train", "all")  # the explore sets ("all": the test split, then the train split)
#: The app's pages (file stems in pages/); the Map is its main page and the one that hands back selections.
PAGES = ("map", "tour", "sliders", "directions", "reconstructions", "interpolate", "spaces", "generate", "your_image",
         "how_it_works", "training_step", "ae_vs_vae", "vae_vs_gan", "uses", "weaknesses", "train")
HEIGHT = 800  # pixels of the inline explorer


# -- what to show ---------------------------------------------------------------------------------
def _check_data(dataset: str, split: str, whose: str | None = None) -> str:
    """The data set's name as a checkpoint stores it; ValueError unless ``split`` is on this machine.
    ``whose``: the checkpoint that names the data set (None: the caller's ``dataset=``)."""
    what = f"dataset={dataset!r}" if whose is None else f"{whose}'s data set, {dataset!r},"
    try:
        name = check_dataset_name(dataset) if isinstance(dataset, str) else None
    except DataError as e:
        raise ValueError(f"{what} is not usable: {e}") from None
    if name is None:
        raise ValueError(f"{what} is not a data set's name; pass e.g. dataset=\"fashion-mnist\"")
    for part in ("test", "train") if split == "all" else (split,):
        if not dataset_available(name, part):
            raise ValueError(f"{what} has no {part} split on this machine; fetch it with "
                             f"`python -m vae data --fetch {dataset}`, or explore split=\"test\"")
    return canonical_dataset_name(name)


def _module_hash(model: nn.Module, dataset: str) -> str:
    """Of the weights, buffers, class, config and data set: the folder a model is saved to."""
    h = hashlib.sha256(f"{type(model).__module__}.{type(model).__qualname__}\0{dataset}\0".encode())
    if isinstance(model, VAE):
        h.update(model.config.to_json().encode())
    for k, v in sorted(model.state_dict().items()):
        t = v.detach().cpu().contiguous()
        h.update(f"{k}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        h.update(t.flatten().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def _loads(path: Path) -> bool:
    try:
        load_checkpoint(path)
        return True
    except CheckpointError:
        return False


def _save_model(model: nn.Module, dataset: str, split: str) -> Path:
    """An in-memory model as a checkpoint folder under cache/notebook/ (once per content hash)."""
    name = _check_data(dataset, split)
    folder = DEFAULT_CACHE_DIR / "notebook" / _module_hash(model, name)
    if folder.is_dir() and _loads(folder):
        return folder
    if isinstance(model, VAE):
        c, h, _w = model.config.image_shape
        kw = {"image_size": h, "channels": c} if name.startswith("folder:") else {}
        test = load_dataset(name, "test", download=False, **kw)
        if tuple(test.image_shape) != tuple(model.config.image_shape):
            raise ValueError(f"dataset={dataset!r} has images of shape {tuple(test.image_shape)}, but the model takes "
                             f"{tuple(model.config.image_shape)}; pass the data set it was trained on")
        meta = {"dataset": name, "class_names": list(test.class_names), "default_map": "pca",
                "source": "vae.explore: an in-memory model"}
        save_checkpoint(folder, model, meta)
    else:
        from ..byo.importer import export_vae

        export_vae(model, folder, dataset=name, evaluate=False, map_method="pca")
    return folder


def _resolve(target: Any, dataset: str | None, split: str) -> tuple[Path, str]:
    """The checkpoint folder that shows ``target``, and its default name in the picker."""
    if isinstance(target, (str, os.PathLike)):
        path = Path(target).expanduser()
        try:
            ck = load_checkpoint(path)
        except CheckpointError as e:
            raise CheckpointError(f"vae.explore({str(target)!r}): {e}. Pass a checkpoint folder (python -m vae train, "
                                  "save_checkpoint, export_vae) or a model with dataset=") from None
        return _own_data(ck, dataset, split), path.resolve().name
    if isinstance(target, Checkpoint):
        if not target.path.is_dir():
            raise CheckpointError(f"vae.explore: the checkpoint's folder {target.path} is gone; save it again, or "
                                  "pass its model with dataset=")
        return _own_data(target, dataset, split), target.path.resolve().name
    if isinstance(target, nn.Module):
        if dataset is None:
            raise ValueError(f"vae.explore({type(target).__name__} model) needs dataset=, the data set it was trained on "
                             "(e.g. dataset=\"fashion-mnist\"; `python -m vae data` lists those on this machine)")
        folder = _save_model(target, dataset, split)
        return folder, f"{type(target).__name__.lower()}-{folder.name[:8]}"
    raise TypeError(f"vae.explore cannot show a {type(target).__name__}; pass a checkpoint folder, a vae.Checkpoint, "
                    "or a model (a vae.VAE, or an nn.Module VAE that vae.byo.export_vae reads) with dataset=")


def _own_data(ck: Checkpoint, dataset: str | None, split: str) -> Path:
    if dataset is not None and canonical_dataset_name(str(dataset)) != ck.dataset:
        raise ValueError(f"dataset={dataset!r}, but {ck.path} was trained on {ck.dataset!r}; leave dataset out: a "
                         "checkpoint names its own")
    _check_data(ck.dataset, split, whose=ck.name)
    return ck.path.resolve()


# -- the session ----------------------------------------------------------------------------------
class Session:
    """The explorer on one checkpoint, in a notebook: shown inline, the Map's selection readable.

    ``url``: the explorer (embedded; drop ``embed=true`` for a tab of its own). ``selection``: the
    indices of the images selected on its Map (a clicked point, or the points inside a box or
    lasso), positions in the explore set, which are the data set's own indices
    (``load_dataset(dataset, split).images[session.selection]``). ``close()`` ends the session.
    """

    def __init__(self, server: servers.AppServer, checkpoint: str, split: str, page: str, height: int, token: str):
        self._server = server
        self.checkpoint = checkpoint  # its name in the app's checkpoint picker
        self.split = split
        self.page = page
        self.height = height
        self.token = token
        self.closed = False

    @property
    def url(self) -> str:
        query = urlencode({"ckpt": self.checkpoint, "split": self.split, "nb": self.token, "embed": "true"})
        return f"{self._server.url}/{'' if self.page == 'map' else self.page}?{query}"

    def _record(self) -> dict[str, Any]:
        if self.closed:
            raise RuntimeError(f"this session ({self.checkpoint}) is closed; open another with vae.explore(...)")
        rec = exchange.read(self._server.exchange, self.token)
        if rec is None:
            raise RuntimeError(f"the explorer's selection file for {self.checkpoint} is gone (its server stopped); "
                               "open another session with vae.explore(...)")
        return rec

    def _shown(self, rec: dict[str, Any]) -> bool:
        """Whether the page's record is about this session's checkpoint and explore set (the sidebar may
        have switched to another)."""
        return rec.get("checkpoint") == self.checkpoint and rec.get("split") == self.split

    @property
    def selection(self) -> list[int]:
        """The images selected on the Map now (sorted for a box or lasso); [] when nothing is, or while
        the page shows another checkpoint or explore set."""
        rec = self._record()
        return [int(i) for i in rec.get("indices") or []] if self._shown(rec) else []

    @property
    def point(self) -> int | None:
        """The one image shown in the Map's panel (a clicked point), or None."""
        rec = self._record()
        p = rec.get("point") if self._shown(rec) else None
        return None if p is None else int(p)

    def wait_for_selection(self, timeout: float | None = None, poll: float = 0.25) -> list[int]:
        """Block until something is selected on the Map (at once when it already is); returns the
        selection. TimeoutError after ``timeout`` seconds (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            chosen = self.selection
            if chosen:
                return chosen
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"nothing was selected on the Map within {timeout:g} s; click a point or draw a box "
                                   f"or lasso in the explorer ({self.url}), or wait longer")
            time.sleep(poll)

    def close(self) -> None:
        """End this session (its file, its checkpoint's link when no other session shows it); the
        server stops with the last session."""
        if not self.closed:
            self.closed = True
            self._server.close_session(self.token)

    def show(self) -> None:
        """Display the explorer in the notebook's output (IPython's display)."""
        try:
            from IPython.display import HTML, display
        except ImportError:
            print(self.url)
            return
        display(HTML(self._repr_html_()))

    def _repr_html_(self) -> str:
        if self.closed:
            return f"<p>The explorer session on <b>{html.escape(self.checkpoint)}</b> is closed.</p>"
        src = html.escape(self.url, quote=True)
        tab = html.escape(self.url.replace("&embed=true", ""), quote=True)
        title = html.escape(f"VAE latent-space explorer: {self.checkpoint}", quote=True)
        return (f'<iframe src="{src}" width="100%" height="{int(self.height)}" title="{title}" '
                f'style="border: 1px solid #ddd; border-radius: 4px"></iframe>'
                f'<div style="font-size: 0.85em">{html.escape(self.checkpoint)} · {html.escape(self.split)} split · '
                f'<a href="{tab}" target="_blank" rel="noopener">open in a new tab</a> · the Map\'s selection: '
                f'<code>session.selection</code></div>')

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.url
        return f"Session({self.checkpoint!r}, split={self.split!r}, {state})"


def explore(target: Any, dataset: str | None = None, *, split: str = "test", page: str = "map",
            height: int = HEIGHT, name: str | None = None, port: int | None = None,
            timeout: float = servers.START_TIMEOUT) -> Session:
    """Open the explorer on ``target``; returns a :class:`Session` (shown inline as a cell's last
    expression).

    ``target``: a checkpoint folder, a :class:`~vae.checkpoint.Checkpoint`, or a model (one of ours, or
    any ``nn.Module`` VAE that :func:`vae.byo.export_vae` reads) with ``dataset=`` (a data set's name,
    e.g. ``"fashion-mnist"``, ``"digits"``, ``"folder:PATH"``). ``split``: the explore set ("test",
    "train" or "all"). ``page``: the app's page to open (the Map hands back selections). ``name``: the
    checkpoint's name in the app's picker (default: its folder's). ``port``: the server's (default: a
    free one; the first call starts the server, later ones reuse it).

    Everything is checked before the server starts; a bad value is one exception that names it.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not an explore set; pass one of {', '.join(map(repr, SPLITS))}")
    if page not in PAGES:
        raise ValueError(f"page={page!r} is not one of the app's pages; pass one of {', '.join(PAGES)}")
    if isinstance(height, bool) or not isinstance(height, int) or height < 200:
        raise ValueError(f"height={height!r}: pass the inline explorer's height in pixels, 200 or more")
    if name is not None and not (isinstance(name, str) and servers.NAME_RE.match(name)):
        raise ValueError(f"name={name!r} is not a checkpoint name the app shows; use letters, digits, '_', '.' and "
                         "'-', starting with a letter or digit (at most 80)")
    servers.check_port(port)
    folder, default = _resolve(target, dataset, split)
    server = servers.running(port, timeout)
    checkpoint, token = server.open_session(folder, default, name, split)
    return Session(server, checkpoint, split, page, height, token)
