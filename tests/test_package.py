"""The package's shape: UI-free, nothing on import, nothing unsafe anywhere in the code."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_vae_leaves_streamlit_out_and_runs_nothing():
    code = ("import sys, vae, vae.cli, vae.evaluate, vae.export.tables, vae.data.images; "
            "mods = [m for m in ('streamlit', 'umap', 'plotly') if m in sys.modules]; print(mods)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]" and r.stderr == ""


def test_no_streamlit_import_in_library():
    for f in (ROOT / "vae").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+streamlit", f.read_text(), re.M), f


def _code_files():
    for folder in ("vae", "pages", "benchmarks", "tests"):
        yield from (ROOT / folder).rglob("*.py")
    yield from ROOT.glob("*.py")


def test_nothing_unsafe_in_the_code():
    forbidden = [
        (r"^\s*import pickle|^\s*from pickle|pickle\.loads?\(", "pickle"),
        (r"torch\.load\((?![^)]*weights_only\s*=\s*True)", "torch.load without weights_only=True"),
        (r"(?<![\w.])eval\(", "eval("),
        (r"(?<![\w.])exec\(", "exec("),
        (r"unsafe_allow_html\s*=\s*True", "unsafe_allow_html"),
    ]
    here = Path(__file__).resolve()
    for f in _code_files():
        # these name the patterns / build a hostile pickle on purpose
        if f.resolve() == here or f.name in ("test_checkpoint.py", "test_robustness_pickle.py", "test_byo_hostile.py"):
            continue
        text = f.read_text()
        for pattern, what in forbidden:
            assert not re.search(pattern, text, re.M), f"{what} in {f.relative_to(ROOT)}"


def test_ruff_is_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "vae", "pages", "tests", "benchmarks", "app.py"],
                       cwd=ROOT, capture_output=True, text=True)
    assert "No module named ruff" not in r.stderr, "ruff is in requirements.txt: run make setup"
    assert r.returncode == 0, r.stdout[-3000:]
