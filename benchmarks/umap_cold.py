"""A UMAP fit in a fresh process: ``python -m benchmarks.umap_cold CODES.npy`` prints JSON timings.

Run with NUMBA_CACHE_DIR pointing at an empty folder, this is the cold start the app pays
once: importing umap-learn, compiling its numba code, then fitting. Codes are read from a
plain ``.npy`` file (``allow_pickle=False``); the map uses ``ProjectionConfig()``.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m benchmarks.umap_cold CODES.npy", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    import numpy as np

    codes = np.load(argv[0], allow_pickle=False)
    t1 = time.perf_counter()
    import umap  # noqa: F401  (numba compiles part of umap-learn at import)

    t2 = time.perf_counter()
    from vae.explore.projection import ProjectionConfig, fit_projection

    fit_projection(codes, ProjectionConfig())
    t3 = time.perf_counter()
    print(json.dumps({"n": len(codes), "import_s": t2 - t1, "fit_s": t3 - t2, "total_s": t3 - t1,
                      "startup_s": t1 - t0}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
