"""The library installs as a package: a wheel, installed offline into a fresh venv, gives a `vae`
command that works from any folder. The app, pages and benchmarks are not part of it."""

import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line of a requirements file (names normalised)."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def test_package_dependencies_are_the_pinned_requirements():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {**_pins(ROOT / "constraints.txt"), **_pins(ROOT / "requirements.txt")}
    deps = project["dependencies"]
    assert deps, "pyproject.toml declares no dependencies"
    for dep in deps:
        name, version = dep.split("==")
        key = re.sub(r"[-_.]+", "-", name).lower()
        assert pinned.get(key) == version, f"{dep} in pyproject.toml, {pinned.get(key)} in requirements/constraints"
    assert not any(d.startswith(("streamlit", "playwright", "pytest")) for d in deps), "the app and tests stay out"
    assert project["scripts"]["vae"] == "vae.cli:main"


def _run(cmd, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INDEX="1")
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=600, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.mark.skipif(sys.platform == "win32", reason="venv layout of POSIX systems")
def test_wheel_installs_offline_into_a_fresh_venv_and_runs_from_another_folder(tmp_path):
    # build from a copy, so that the checkout stays clean (setuptools writes build/ and *.egg-info)
    src = tmp_path / "src"
    src.mkdir()
    shutil.copytree(ROOT / "vae", src / "vae", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", wheels, src])
    (wheel,) = wheels.glob("vae_explorer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"vae/cli/__init__.py", "vae/cli/train.py", "vae/likelihoods.py"} <= set(names), names
    assert not [n for n in names if n.startswith(("pages/", "benchmarks/", "tests/", "app.py"))], names

    # A fresh venv that sees this project's installed packages (pip among them) the way
    # --system-site-packages shows the system's: pip must find every pinned dependency already
    # there, downloading nothing. Without a pip of its own, whose older setuptools would shadow
    # the one torch requires.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    (purelib,) = venv.glob("lib/python*/site-packages")
    (purelib / "_project_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    r = _run([venv / "bin" / "python", "-m", "pip", "install", "--no-index", "--find-links", wheels,
              "vae-explorer"])
    assert "Successfully installed vae-explorer-0.1.0" in r.stdout, r.stdout

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = _run([venv / "bin" / "python", "-c", "import vae; print(vae.__file__)"], cwd=elsewhere)
    assert Path(r.stdout.strip()).is_relative_to(venv), r.stdout  # the installed copy, not the checkout
    r = _run([venv / "bin" / "vae", "info", ROOT / "checkpoints" / "fashion-mnist"], cwd=elsewhere)
    assert "fashion-mnist · conv · latent 16 · β = 1" in r.stdout, r.stdout
    r = subprocess.run([venv / "bin" / "vae", "sample", "no/such/checkpoint", "--out", "x.png"], cwd=elsewhere,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and r.stderr.startswith("vae sample: error: "), r.stderr
    assert list(elsewhere.iterdir()) == []
