"""The explore set's images as the map's thumbnails: uint8 files the page fetches a chunk at a time.

The images are stored in the *order* of :func:`spatial_order` (a Z-order curve over the map's positions),
so that the points of a zoomed-in view, neighbours on the map, lie in one or a few files: in index order
a view's few hundred points would be spread over every file. The image at rank ``r`` of that order lies in
chunk ``r // chunk`` (file ``<stem>-<k>.u8``), at byte ``(r % chunk) * H*W*C`` of it: pixels row by row,
channels interleaved (grey: one byte a pixel, RGB: three), each the value the server's PNGs have
(``floor(clip(x, 0, 1) * 255 + 0.5)``, as vae.data.images.upscale). The order itself goes to the page as
``<stem>.order.u32`` (N little-endian uint32: the image index at each rank). A page that shows a few
hundred thumbnails of the 70,000 Fashion-MNIST images fetches the chunks that hold them (2,048 images,
1.6 MB each before compression). components/map_thumbs/thumbs.js is the page's twin of
:meth:`ThumbLayout.chunk_of` and :meth:`ThumbLayout.chunks_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cache import write_atomic

CHUNK = 2048  # images a file: a view of a few hundred thumbnails of 70,000 images needs a few files
ORDER_BITS = 10  # the Z-order's grid: 1024 × 1024 cells over the map's bounding box


@dataclass(frozen=True)
class ThumbLayout:
    """Where each image's bytes are: ``n`` images of ``channels`` × ``height`` × ``width``."""

    n: int  # images in the explore set
    channels: int  # 1 (grey) or 3 (RGB)
    height: int  # pixels
    width: int  # pixels
    chunk: int = CHUNK  # images a file

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ValueError(f"thumbnails are grey or RGB: channels={self.channels} (use 1 or 3)")
        if self.chunk < 1 or self.n < 0 or self.height < 1 or self.width < 1:
            raise ValueError(f"bad thumbnail layout {self}: chunk, height and width at least 1, n at least 0")

    @property
    def image_bytes(self) -> int:
        return self.height * self.width * self.channels

    @property
    def n_chunks(self) -> int:
        return -(-self.n // self.chunk)

    def chunk_of(self, rank: int | np.ndarray) -> int | np.ndarray:
        """The chunk that holds the image at ``rank`` of the file order (a rank or an array of them)."""
        return np.asarray(rank) // self.chunk if isinstance(rank, np.ndarray) else int(rank) // self.chunk

    def chunks_for(self, indices: np.ndarray, rank: np.ndarray | None = None) -> np.ndarray:
        """The chunks (sorted, each once) that hold images ``indices``: what the page fetches for a view;
        ``rank`` (N,): each image's place in the files (:func:`ranks`; None: index order)."""
        idx = np.asarray(indices, np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise IndexError(f"image indices must lie in [0, {self.n}): got {idx.min()}..{idx.max()}")
        return np.unique((idx if rank is None else np.asarray(rank, np.int64)[idx]) // self.chunk)

    def span(self, k: int) -> tuple[int, int]:
        """The images [start, stop) of chunk ``k``."""
        return k * self.chunk, min(self.n, (k + 1) * self.chunk)

    def spec(self) -> dict[str, Any]:
        """What the page needs besides the files' URLs."""
        return {"n": self.n, "chunk": self.chunk, "shape": [self.channels, self.height, self.width]}


def layout_of(images: Any, chunk: int = CHUNK) -> ThumbLayout:
    """The layout of ``images`` (N, C, H, W)."""
    shape = tuple(images.shape)
    if len(shape) != 4:
        raise ValueError(f"thumbnails need images of shape (N, C, H, W): got {shape}")
    return ThumbLayout(shape[0], shape[1], shape[2], shape[3], chunk)


def _spread(v: np.ndarray) -> np.ndarray:
    """The bits of ``v`` (< 2**16) moved to the even places: bit b goes to bit 2b."""
    v = v.astype(np.uint64)
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def spatial_order(coords: np.ndarray, bits: int = ORDER_BITS) -> np.ndarray:
    """The images (indices) in Z-order of their map positions ``coords`` (N, 2): the positions cut to a
    2**bits × 2**bits grid over their bounding box, the cells in Morton order, ties by index. Neighbours
    on the map are mostly neighbours in this order, so a view's points lie in few chunks."""
    xy = np.asarray(coords, np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"map positions must be (N, 2): got {xy.shape}")
    if len(xy) == 0:
        return np.zeros(0, np.int64)
    lo, hi = xy.min(0), xy.max(0)
    cells = 2**bits
    q = np.clip(((xy - lo) / np.maximum(hi - lo, 1e-12) * cells).astype(np.int64), 0, cells - 1)
    code = _spread(q[:, 0]) | (_spread(q[:, 1]) << np.uint64(1))
    return np.argsort(code, kind="stable")


def ranks(order: np.ndarray) -> np.ndarray:
    """Each image's place in ``order`` (the inverse permutation)."""
    rank = np.empty(len(order), np.int64)
    rank[np.asarray(order, np.int64)] = np.arange(len(order))
    return rank


def as_uint8(images: Any) -> np.ndarray:
    """Images (N, C, H, W) in [0, 1] (a tensor or an array) as uint8 (N, H, W, C), the server's PNG values."""
    a = images.detach().cpu().float().numpy() if hasattr(images, "detach") else np.asarray(images, np.float32)
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)


def chunk_bytes(pixels: np.ndarray, layout: ThumbLayout, k: int, order: np.ndarray | None = None) -> bytes:
    """The bytes of chunk ``k`` from ``pixels`` (N, H, W, C) uint8, the images in ``order`` (None: by index)."""
    start, stop = layout.span(k)
    which = slice(start, stop) if order is None else np.asarray(order)[start:stop]
    return np.ascontiguousarray(pixels[which], np.uint8).tobytes()


def read_chunk(data: bytes, layout: ThumbLayout, k: int) -> np.ndarray:
    """Chunk ``k``'s images back from its bytes: (m, H, W, C) uint8, in the files' order."""
    start, stop = layout.span(k)
    want = (stop - start) * layout.image_bytes
    if len(data) != want:
        raise ValueError(
            f"chunk {k} holds {len(data)} bytes, its layout {want}: the file was cut short or "
            "belongs to another explore set (delete it; the app writes it again)"
        )
    return np.frombuffer(data, np.uint8).reshape(stop - start, layout.height, layout.width, layout.channels)


def chunk_path(folder: Path, stem: str, k: int) -> Path:
    return Path(folder) / f"{stem}-{k}.u8"


def order_path(folder: Path, stem: str) -> Path:
    return Path(folder) / f"{stem}.order.u32"


def write_thumbnails(
    images: Any, folder: str | Path, stem: str, coords: np.ndarray | None = None, chunk: int = CHUNK
) -> tuple[ThumbLayout, list[Path], Path]:
    """Write the chunk files of ``images`` (N, C, H, W) as ``folder/<stem>-<k>.u8``, in the
    :func:`spatial_order` of ``coords`` (N, 2) (None: index order), and that order as
    ``folder/<stem>.order.u32``, where missing (each atomically: a reader never sees half a file);
    returns the layout, the chunk files and the order's file."""
    layout = layout_of(images, chunk)
    folder = Path(folder)
    paths = [chunk_path(folder, stem, k) for k in range(layout.n_chunks)]
    opath = order_path(folder, stem)
    missing = [k for k, p in enumerate(paths) if not p.is_file()]
    if missing or not opath.is_file():
        if coords is not None and len(coords) != layout.n:
            raise ValueError(
                f"{len(coords)} map positions for {layout.n} images: give one position per image"
            )
        folder.mkdir(parents=True, exist_ok=True)
        order = np.arange(layout.n) if coords is None else spatial_order(coords)
        pixels = as_uint8(images)
        for k in missing:
            write_atomic(paths[k], chunk_bytes(pixels, layout, k, order))
        write_atomic(opath, np.ascontiguousarray(order, "<u4").tobytes())
    return layout, paths, opath
