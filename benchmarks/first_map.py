"""Time to first map: from launching ``streamlit run`` to the map's points on screen.

The browser is started (and a fresh context opened) before the clock starts; the clock
stops when the map's data points are on screen: those a session's first run draws from the shipped
map while the model loads (frame/first_map.py), or the page's own map where no preview came first.
The time to the page's own map (the one that answers clicks) is reported beside it. Ours: the checkpoint as
shipped, its projection read from ``<checkpoint>/projections/`` (with an empty
VAE_EXPLORER_CACHE, as on a fresh clone). Peer: every cache removed: an empty
VAE_EXPLORER_CACHE and NUMBA_CACHE_DIR, and a copy of the checkpoint without its
``projections/`` folder, so the server encodes the test split, compiles UMAP and fits it.
Repeats alternate the order (ours first, then peer first).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from vae.checkpoint import load_checkpoint
from vae.explore.sets import SHIPPED_DIR, default_projection

from .app_driver import MAP_POINTS_JS, PREVIEW_POINTS_JS, Server, chromium, new_page, wait_map
from .records import Record, median, spread
from .settings import Settings

NAME = "first_map"


def ships_projection(checkpoint: Path) -> bool:
    """True when the checkpoint folder holds the projection the Map page opens with."""
    ck = load_checkpoint(checkpoint)
    cfg = default_projection(ck)
    folder = ck.path / SHIPPED_DIR
    return folder.is_dir() and any(folder.glob(f"proj-{ck.content_hash}-test-*-{cfg.key()}.npz"))


def copy_without_projections(checkpoint: Path, root: Path) -> Path:
    dest = root / checkpoint.name
    shutil.copytree(checkpoint, dest, ignore=shutil.ignore_patterns(SHIPPED_DIR))
    return dest


#: Marks, on the page's clock, when points are first on screen (the first run's preview or the page's own
#: map) and when the page's own map, the one that answers clicks, has them.
MARKS_JS = f"""
(() => {{
  window.__firstMap = {{}};
  const preview = {PREVIEW_POINTS_JS}, page = {MAP_POINTS_JS};
  const tick = () => {{
    const m = window.__firstMap;
    if (m.page === undefined && page() > 0) m.page = performance.now();
    if (m.points === undefined && (m.page !== undefined || preview() > 0)) m.points = performance.now();
    if (m.page === undefined) requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}})();
"""


def time_to_map(browser, env: dict[str, str], name: str) -> tuple[float, float, float, int]:
    """(seconds to points on screen, seconds to the page's own map, seconds to a healthy server, points drawn)."""
    ctx, page = new_page(browser, timeout_ms=600_000)
    page.add_init_script(MARKS_JS)
    try:
        with Server(env) as server:
            ready = server.wait_healthy(timeout=300)
            nav = time.perf_counter() - server.started
            page.goto(f"{server.url}/?ckpt={name}")
            n = wait_map(page, timeout_ms=600_000)
            marks = page.evaluate("() => window.__firstMap")
            return nav + marks["points"] / 1000, nav + marks["page"] / 1000, ready, n
    finally:
        ctx.close()


def run(settings: Settings) -> list[Record]:
    repeats = settings.pick(1, 3)
    shipped = ships_projection(settings.checkpoint)
    name = settings.checkpoint_name
    ours_t: list[float] = []
    peer_t: list[float] = []
    ours_full: list[float] = []  # to the page's own map (clickable), after the first run's preview
    details: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-first-map-") as tmp, chromium() as browser:
        tmp = Path(tmp)
        cold_root = tmp / "checkpoints"
        copy_without_projections(settings.checkpoint.resolve(), cold_root)
        for i in range(repeats):
            ours_env = {"VAE_CHECKPOINTS": str(settings.checkpoint_root)}
            if shipped:  # only what the checkpoint ships: an empty explorer cache
                ours_env["VAE_EXPLORER_CACHE"] = str(tmp / f"cache-ours-{i}")
            peer_env = {"VAE_CHECKPOINTS": str(cold_root), "VAE_EXPLORER_CACHE": str(tmp / f"cache-cold-{i}"),
                        "NUMBA_CACHE_DIR": str(tmp / f"numba-cold-{i}")}
            # the peer (encode, numba JIT, UMAP fit: about 100 s) only in full runs: a quick run is for iterating
            runs = [("ours", ours_env), ("peer", peer_env)] if not settings.quick else [("ours", ours_env)]
            for variant, env in (runs if i % 2 == 0 else runs[::-1]):
                settings.say(f"first_map: repeat {i + 1}/{repeats}, {'shipped cache' if variant == 'ours' else 'cold'}")
                secs, full, ready, n = time_to_map(browser, env, name)
                (ours_t if variant == "ours" else peer_t).append(secs)
                if variant == "ours":
                    ours_full.append(full)
                details.append({"variant": variant, "seconds": secs, "page_map_s": full, "server_ready_s": ready,
                                "points": n})
    where = ("projection shipped in the checkpoint, empty explorer cache" if shipped else
             "checkpoint ships no projection: read from the local cache/ instead")
    rec = Record(
        NAME, median(ours_t), median(peer_t), "s", len(ours_t), "lower",
        ours_label="shipped projection",
        peer_label="no caches: encode + numba JIT + UMAP fit" + (" (full runs only)" if settings.quick else ""),
        goal="ours ≤ 5 s", note=(f"launch → points on screen; {where}; the page's own (clickable) map at "
                                 f"{median(ours_full):.2f} s" if ours_full else f"launch → points on screen; {where}"),
        extra={"ours_spread": spread(ours_t), "peer_spread": spread(peer_t), "peer_n": len(peer_t),
               "page_map_s": ours_full,
               "runs": details, "shipped_projection": shipped},
    )
    rec.met = rec.ours is not None and rec.ours <= 5.0
    return [rec]
