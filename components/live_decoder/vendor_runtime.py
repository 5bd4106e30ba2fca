"""Refresh the vendored onnxruntime-web files in static/ort/ from npm: ``make ort-web``.

    python components/live_decoder/vendor_runtime.py [--version 1.30.0]

Needs Node's ``npm`` (only here: ``make run`` serves the files already in the repository).
``npm pack`` fetches the package tarball and checks it against the registry's integrity hash;
this script then copies the two files the page loads (the wasm-only ES module bundle and its
WebAssembly binary), writes the licence, and records the version, the tarball's integrity and
each file's SHA-256 and size in static/ort/MANIFEST.json. tests/app/test_live_runtime.py checks the
files against that manifest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEST = ROOT / "static" / "ort"
PACKAGE = "onnxruntime-web"
VERSION = "1.30.0"
#: What the page loads: the ES module with the wasm backend only (its Emscripten glue inside),
#: and the SIMD WebAssembly binary (run with one thread: Streamlit pages are not cross-origin isolated).
FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")
LICENSE = """MIT License

Copyright (c) Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def refresh(version: str = VERSION, dest: Path = DEST) -> dict:
    """Fetch ``onnxruntime-web@version`` with npm and replace the vendored files; returns the manifest."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("error: npm not found; install Node.js to refresh the vendored runtime "
                         "(the app itself does not need it)")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([npm, "pack", f"{PACKAGE}@{version}", "--json", "--pack-destination", tmp],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"error: npm pack {PACKAGE}@{version} failed: {out.stderr.strip()[-500:]}")
        info = json.loads(out.stdout)[0]
        with tarfile.open(Path(tmp) / info["filename"]) as tar:
            pkg = json.load(tar.extractfile("package/package.json"))
            dest.mkdir(parents=True, exist_ok=True)
            for name in FILES:
                member = tar.extractfile(f"package/dist/{name}")
                if member is None:
                    raise SystemExit(f"error: {PACKAGE}@{version} has no dist/{name}")
                with open(dest / name, "wb") as f:
                    shutil.copyfileobj(member, f)
    (dest / "LICENSE").write_text(LICENSE, encoding="utf-8")
    manifest = {
        "package": PACKAGE,
        "version": pkg["version"],
        "license": pkg.get("license"),
        "source": f"npm pack {PACKAGE}@{pkg['version']}",
        "tarball_integrity": info.get("integrity"),
        "note": "The WebAssembly binary also contains third-party code listed in ONNX Runtime's "
                "ThirdPartyNotices.txt (github.com/microsoft/onnxruntime).",
        "files": {name: {"sha256": sha256(dest / name), "bytes": (dest / name).stat().st_size} for name in FILES},
    }
    (dest / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for stale in dest.iterdir():  # nothing else is served from this folder
        if stale.name not in (*FILES, "LICENSE", "MANIFEST.json"):
            stale.unlink()
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version", default=VERSION, help=f"onnxruntime-web version (default {VERSION})")
    args = p.parse_args(argv)
    m = refresh(args.version)
    for name, f in m["files"].items():
        print(f"{name}: {f['bytes']:,} bytes, sha256 {f['sha256']}")
    print(f"{m['package']} {m['version']} ({m['license']}) in {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
