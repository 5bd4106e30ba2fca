"""Folder datasets as a researcher brings them: RGB or grey, any square size, typed as a relative path.
Size and channels are read off the images, odd data is named in one line, the checkpoint finds its
images from any folder, and every CLI command works on the result."""

import json
import os

import pytest
import torch
from app_helpers import app_test, switch
from PIL import Image

from vae.checkpoint import load_checkpoint
from vae.cli import main
from vae.data.datasets import check_dataset_name, inspect_folder, load_dataset, load_training_data
from vae.errors import DataError
from vae.export.tables import export_csv, output_folder
from vae.folders import update_meta


def test_an_rgb_folder_is_read_in_colour_at_its_own_size(tmp_path, image_folder):
    root = image_folder(tmp_path / "shapes", size=16, mode="RGB")
    train, test = load_training_data(f"folder:{root}")
    assert train.image_shape == test.image_shape == (3, 16, 16)
    assert len(train) + len(test) == 36 and train.class_names == ["circle", "square", "triangle"]
    assert train.notes == [f"{root}: 36 images in 3 classes, loaded as colour (RGB) 16x16 (read off the images; "
                           "--channels and --image-size override)"]
    assert train.warnings == [] and test.notes == []
    assert train.images[:, 0].ne(train.images[:, 1]).any()  # the colours are there


def test_grey_pictures_saved_as_rgb_stay_grayscale(tmp_path, image_folder):
    root = image_folder(tmp_path / "grey", size=12, mode="L")
    for p in root.rglob("*.png"):
        Image.open(p).convert("RGB").save(p)
    train, _ = load_training_data(f"folder:{root}")
    assert train.image_shape == (1, 12, 12) and "loaded as grayscale 12x12" in train.notes[0]


def test_given_size_and_channels_win(tmp_path, image_folder):
    root = image_folder(tmp_path / "shapes", size=16, mode="RGB")
    train, test = load_training_data(f"folder:{root}", image_size=8, channels=3)
    assert train.image_shape == (3, 8, 8) and train.notes == [] and train.warnings == []


@pytest.mark.parametrize("case, warning", [
    ("one class", "has a single class ('only'): k-NN accuracy is 1.0 by construction"),
    ("mixed aspect", "4 of 36 images are not square (width/height from 1.00 to 1.25; 000.png is 20x16): they are "
                     "squashed to 28x28; crop or pad them to squares to keep their shapes"),
    ("colour as grey", "holds colour images but they are loaded as grayscale (--channels 1); leave --channels out "
                       "or pass --channels 3 to keep their colours"),
])
def test_odd_data_gets_one_line_each(tmp_path, image_folder, case, warning):
    channels = None
    if case == "one class":
        root = image_folder(tmp_path / "d", classes=("only",))
    elif case == "mixed aspect":
        root = image_folder(tmp_path / "d", size=16)
        image_folder(tmp_path / "d", size=(20, 16), classes=("circle",), per_class=4, seed=1)
    else:
        root = image_folder(tmp_path / "d")
        channels = 1
    train, _ = load_training_data(f"folder:{root}", channels=channels)
    assert len(train.warnings) == 1 and warning in train.warnings[0], train.warnings
    assert all("\n" not in line for line in train.warnings + train.notes)


def test_mixed_sizes_are_resized_to_28_with_a_note(tmp_path, image_folder):
    root = image_folder(tmp_path / "d", size=16)
    image_folder(tmp_path / "d", size=24, classes=("square",), per_class=2, seed=3)  # overwrites two files
    info = inspect_folder(root)
    assert info.image_size == 28 and info.inferred == ["channels", "image_size"]
    assert "the images have 2 different sizes: they are resized to 28x28; pass --image-size" in info.notes[1]


def test_a_path_typed_as_a_dataset_name_gets_the_folder_hint():
    with pytest.raises(DataError) as e:
        check_dataset_name("/some/path")
    assert str(e.value) == ("unknown dataset '/some/path': did you mean folder:/some/path? Known datasets: "
                            "fashion-mnist, mnist, kmnist, digits, emoji, or folder:PATH for your own images")
    with pytest.raises(DataError, match=r"^unknown dataset 'fasion-mnist': did you mean 'fashion-mnist'\? Known"):
        check_dataset_name("fasion-mnist")
    with pytest.raises(DataError, match=r"^unknown dataset 'zzz'\. Known datasets: fashion-mnist"):
        check_dataset_name("zzz")


# -- checkpoints of folder datasets ---------------------------------------------------------------
@pytest.fixture()
def relative_run(tmp_path, image_folder, monkeypatch):
    """A run trained in tmp/project with --dataset folder:shapes (relative) --out runs/ck."""
    project = tmp_path / "project"
    image_folder(project / "shapes", size=16, mode="RGB")
    monkeypatch.chdir(project)
    code = main(["train", "--dataset", "folder:shapes", "--arch", "mlp", "--hidden", "16", "--latent-dim", "2",
                 "--epochs", "1", "--batch-size", "16", "--out", "runs/ck", "--no-progress"])
    assert code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return project, project / "runs" / "ck"


def test_a_folder_checkpoint_stores_its_absolute_path_size_and_channels(relative_run):
    project, ck_path = relative_run
    meta = json.loads((ck_path / "meta.json").read_text())
    assert meta["dataset"] == f"folder:{project / 'shapes'}"
    assert meta["folder"] == {"path": str(project / "shapes"), "given_as": "shapes", "image_size": 16, "channels": 3}
    assert meta["data_background"]["dark_fraction"] == 0.0  # shapes on white
    data = load_checkpoint(ck_path).load_data("test")  # from another folder
    assert data.image_shape == (3, 16, 16) and len(data) == 5


def test_an_old_relative_entry_loads_from_where_training_ran(relative_run):
    project, ck_path = relative_run
    update_meta(ck_path, dataset="folder:shapes")  # as checkpoints stored it before
    assert os.getcwd() != str(project)
    assert len(load_checkpoint(ck_path).load_data("test")) == 5  # found via train_config.out = runs/ck
    (project / "shapes").rename(project / "moved")
    with pytest.raises(DataError) as e:
        load_checkpoint(ck_path).load_data("test")
    assert str(e.value) == (f"the image folder 'shapes' that ck was trained on (a path relative to where training "
                            f"ran) is not in {os.getcwd()}/shapes or {project}/shapes; pass --data-dir with its place")
    assert len(load_checkpoint(ck_path).load_data("test", data_dir=project / "moved")) == 5


def test_a_gone_absolute_folder_names_the_fix(relative_run):
    project, ck_path = relative_run
    (project / "shapes").rename(project / "moved")
    with pytest.raises(DataError, match="shapes that ck was trained on is gone .moved or deleted.; pass --data-dir"):
        load_checkpoint(ck_path).load_data("test")


# -- every command on RGB and non-28 folders --------------------------------------------------------
FOLDERS = {  # name: (image size, PIL mode, architecture, likelihood, expected image shape)
    "rgb-16-conv-logistic": (16, "RGB", "conv", "logistic", (3, 16, 16)),
    "grey-12-mlp-bernoulli": (12, "L", "mlp", "bernoulli", (1, 12, 12)),
}


@pytest.mark.parametrize("name", FOLDERS)
def test_every_command_on_a_folder_checkpoint(name, tmp_path, image_folder, monkeypatch, capsys):
    size, mode, arch, likelihood, shape = FOLDERS[name]
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    image_folder(project / "data", size=size, mode=mode)
    elsewhere.mkdir()
    monkeypatch.chdir(project)

    def run(*argv) -> str:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert code == 0, f"{argv[0]} exited {code}: {err}"
        return out

    run("train", "--dataset", "folder:data", "--arch", arch, "--hidden", "8,16", "--fc-dim", "16", "--latent-dim",
        "2", "--likelihood", likelihood, "--epochs", "2", "--batch-size", "16", "--out", "ck", "--no-progress")
    ck = project / "ck"
    monkeypatch.chdir(elsewhere)  # every other command from another folder
    info = run("info", ck)
    assert f"image {list(shape)}" in info and f"{likelihood} likelihood" in info
    report = json.loads(run("evaluate", ck, "--json", "--iwae-k", "5", "--iwae-images", "5"))
    assert report["n_images"] == 5 and report["knn_fit"] == "train" and report["likelihood"] == likelihood
    assert report["bits_per_dim"] == pytest.approx(report["neg_elbo"] / (shape[0] * shape[1] * shape[2] * 0.6931472))
    assert report["bits_per_dim_comparable"] is (likelihood == "logistic")
    run("sample", ck, "--n", "4", "--scale", "1", "--out", elsewhere / "s.png")
    assert Image.open(elsewhere / "s.png").size == (2 * size + 3, 2 * size + 3)  # a 2x2 grid, 1-pixel gaps
    run("reconstruct", ck, "--n", "3", "--scale", "1", "--out", elsewhere / "r.png")
    with Image.open(elsewhere / "r.png") as im:
        assert im.size == (3 * size + 4, 2 * size + 3) and im.mode == ("RGB" if shape[0] == 3 else "L")
    run("export", ck, "--format", "csv", "--out", elsewhere / "csv")
    rows = (elsewhere / "csv" / "latents.csv").read_text().splitlines()
    assert rows[0] == "index,label,class,z0,z1" and len(rows) == 1 + 5
    run("export", ck, "--format", "projector", "--split", "train", "--out", elsewhere / "proj")
    assert len((elsewhere / "proj" / "tensors.tsv").read_text().splitlines()) == 31
    assert Image.open(elsewhere / "proj" / "sprite.png").size == (6 * size, 6 * size)
    run("project", ck, "--method", "pca")
    assert len(list((ck / "projections").glob("*.npz"))) == 2
    assert sorted(p.name for p in elsewhere.iterdir()) == ["csv", "proj", "r.png", "s.png"]


def test_a_failed_export_leaves_no_folder_behind(digits_checkpoint, tmp_path, monkeypatch):
    ck = load_checkpoint(digits_checkpoint)
    data = ck.load_data("test", limit=10)

    def broken(*a, **k):
        raise RuntimeError("expected input to have 3 channels")

    monkeypatch.setattr(ck.model, "embed", broken)
    with pytest.raises(RuntimeError):
        export_csv(ck, data, tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()


def test_output_folder_removes_only_what_it_created(tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "mine.txt").write_text("a user's file")
    for out in (tmp_path / "new" / "deeper", kept):
        with pytest.raises(OSError), output_folder(out) as folder:
            (folder / "part.tsv").write_text("half")
            raise OSError("disk full")
    assert not (tmp_path / "new").exists()
    assert (kept / "mine.txt").read_text() == "a user's file"


def test_load_dataset_on_a_folder_with_a_wrong_explicit_shape_is_caught_by_the_checkpoint(relative_run):
    _, ck_path = relative_run
    ck = load_checkpoint(ck_path)
    assert load_dataset(ck.dataset, "test", image_size=8, channels=1).image_shape == (1, 8, 8)
    assert ck.load_data("test").image_shape == (3, 16, 16)
    assert torch.isfinite(ck.model.generate(torch.zeros(1, 2))).all()


def test_every_page_opens_a_colour_checkpoint_with_two_outputs_per_pixel(tmp_path, image_folder, monkeypatch):
    """The app's pages, written for grey Bernoulli models, on an RGB discretised-logistic one."""

    import pages._loaders
    from vae.config import ModelConfig, TrainConfig
    from vae.training.trainer import Trainer

    root = image_folder(tmp_path / "shapes", size=16, mode="RGB")
    checkpoints = tmp_path / "checkpoints"
    mc = ModelConfig(arch="conv", image_shape=(3, 16, 16), latent_dim=3, hidden_dims=(8, 16), fc_dim=16,
                     likelihood="logistic")
    Trainer(mc, TrainConfig(dataset=f"folder:{root}", out=str(checkpoints / "rgb"), epochs=1, batch_size=16)).run()
    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", checkpoints)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    threads = torch.get_num_threads()  # the pages set torch's threads, which new threads inherit
    try:
        at = app_test(120)
        at.session_state["ckpt"] = "rgb"  # 5 test images: too few for UMAP, so every map falls back to PCA
        at.run()
        for page in ("map", "sliders", "reconstructions", "interpolate", "generate", "your_image", "how_it_works"):
            switch(at, f"pages/{page}.py").run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert not at.error, (page, [e.value for e in at.error])
    finally:
        torch.set_num_threads(threads)
