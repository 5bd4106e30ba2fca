"""The README's two "Bring your own VAE" recipes, run as a researcher pastes them: their VAE (one of
their own, then pythae's BetaVAE) defined, trained, exported, imported (with the default evaluation
and UMAP map), and listed for the app.

Each runs as written but for one change, asserted to apply once: it writes into a temporary
folder instead of checkpoints/. Its data comes from a temporary $VAE_DATA_DIR (searched before
data/): the Fashion-MNIST train split is not on every machine (the tests never download), so the
10,000 shipped test images stand in for it, and the test split is their first 300, so that the
default evaluation (IWAE with k = 1000) and the UMAP map take seconds, not minutes."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_fashion_mnist

from vae.checkpoint import list_checkpoints, load_checkpoint

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Bring your own VAE"
TEST_IMAGES = 300  # the test split the example is evaluated and mapped on (see above)


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(SECTION + "\n") == 1, f"README.md has no single {SECTION!r} section"
    section = text.split(SECTION + "\n", 1)[1]
    return section.split("\n## ", 1)[0]


def readme_example(name: str) -> str:
    """The python block of the section that starts ``# NAME.py:``."""
    blocks = re.findall(r"```python\n(.*?)```", readme_section(), flags=re.S)
    found = [b for b in blocks if b.startswith(f"# {name}.py:")]
    assert len(found) == 1, f"expected one python block starting '# {name}.py:' in {SECTION!r}, found {len(found)}"
    return found[0]


def _replace_once(code: str, old: str, new: str) -> str:
    assert code.count(old) == 1, f"the README example should contain {old!r} once, found {code.count(old)}"
    return code.replace(old, new)


def test_the_readme_names_the_import_command_and_every_config_field():
    from vae.byo.model import OnnxConfig

    section = readme_section()
    assert ("python -m vae import --encoder encoder.onnx --decoder decoder.onnx --dataset fashion-mnist "
            "--out checkpoints/my-vae") in section
    fields = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert fields == ["kind", *(f.name for f in dataclasses.fields(OnnxConfig))], fields
    for option in re.findall(r"    im\.add_argument\(\"(--[a-z-]+)\"",
                             (ROOT / "vae" / "cli" / "byo.py").read_text(encoding="utf-8")):
        assert re.search(rf"{option}\b", section), f"{option} of `import` is not in the README"


def run_example(tmp_path: Path, name: str, out: Path) -> subprocess.CompletedProcess:
    """The README's ``NAME.py`` written into ``tmp_path`` with ``out`` for its checkpoints/ folder, and
    run there (the data as the module docstring says)."""
    code = _replace_once(readme_example(name), f'"checkpoints/{out.name}"', repr(str(out)))
    script = tmp_path / f"{name}.py"
    script.write_text(code, encoding="utf-8")
    data = write_fashion_mnist(tmp_path / "data", test=TEST_IMAGES, train_from_test=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VAE_EXPLORER_CACHE": str(tmp_path / "cache"),
           "VAE_DATA_DIR": str(data)}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_the_readme_lists_what_export_vae_reads():
    from vae.byo.third_party import DECODER_NAMES, ENCODER_NAMES

    section = readme_section()
    for mean, spread, _ in ENCODER_NAMES:
        assert f"`{mean}`/`{spread}`" in section, f"{mean}/{spread} is not in the README"
    for name in DECODER_NAMES:
        assert f"`{name}`" in section, f"{name} is not in the README"
    assert "progress=" in section and "encode=" in section and "decode=" in section


@pytest.mark.slow
def test_the_readme_example_trains_exports_and_imports_a_vae(tmp_path):
    out = tmp_path / "checkpoints" / "my-vae"
    proc = run_example(tmp_path, "my_vae", out)
    assert proc.stdout.startswith("fashion-mnist · imported ONNX · latent 20 · bernoulli likelihood, test -ELBO"), \
        proc.stdout
    assert [(e.name, e.error) for e in list_checkpoints(out.parent)] == [("my-vae", None)]
    ck = load_checkpoint(out)
    c = ck.config
    assert (c.encoder_input, c.decoder_output, c.input_range, c.output_range) == ("flat", "flat", (0, 1), (0, 1))
    m = ck.metrics
    assert (m["n_images"], m["iwae_k"], m["iwae_images"]) == (TEST_IMAGES, 1000, TEST_IMAGES), m
    assert math.isfinite(m["neg_elbo"]) and math.isfinite(m["iwae_nll"]) and m["iwae_nll"] <= m["neg_elbo"], m
    trip = ck.meta["imported"]["round_trip"]
    assert trip["recon_mse"] < trip["mean_image_mse"] / 2, trip
    assert any("umap" in p.name for p in (out / "projections").iterdir())


@pytest.mark.slow
def test_the_readme_pythae_recipe_trains_and_exports_a_pythae_model_as_it_is(tmp_path):
    out = tmp_path / "checkpoints" / "pythae-beta"
    proc = run_example(tmp_path, "pythae_vae", out)
    assert proc.stdout.splitlines()[-1].startswith("fashion-mnist · imported ONNX · latent 10 · bernoulli likelihood, "
                                                   "test -ELBO"), proc.stdout[-2000:]
    stages = [line for line in proc.stderr.splitlines() if line.startswith("done in ")]
    assert len(stages) == 1 and all(f"{stage} " in stages[0] for stage in ("export", "evaluation", "map")), stages
    assert [(e.name, e.error) for e in list_checkpoints(out.parent)] == [("pythae-beta", None)]
    ck = load_checkpoint(out)
    c = ck.config
    assert (c.encoder_input, c.decoder_output, c.input_range, c.output_range, c.beta) == ("image", "image", (0, 1),
                                                                                          (0, 1), 2.0)
    assert ck.meta["imported"]["exported"]["class"] == "pythae.models.beta_vae.beta_vae_model.BetaVAE"
    m = ck.metrics
    assert (m["n_images"], m["iwae_k"], m["iwae_images"]) == (TEST_IMAGES, 1000, TEST_IMAGES), m
    assert math.isfinite(m["neg_elbo"]) and math.isfinite(m["iwae_nll"]) and m["iwae_nll"] <= m["neg_elbo"], m
    trip = ck.meta["imported"]["round_trip"]
    assert trip["recon_mse"] < trip["mean_image_mse"] / 2, trip
    assert any("umap" in p.name for p in (out / "projections").iterdir())
