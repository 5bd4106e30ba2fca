"""Two latent spaces (issue #35) with AppTest: the summary table against the checkpoints' own evaluations,
the link's a, b and sel keys both ways, and pairs that cannot be compared."""

from __future__ import annotations

import json

import pytest
from app_helpers import ROOT, need, open_link, reopened, same, url
from pagecheck import assert_app_ok

from vae.explore import index_text

PAIR = {"a": "fashion-mnist", "b": "fashion-mnist-beta4"}


@pytest.fixture(scope="module", autouse=True)
def _shipped():
    for name in ("fashion-mnist", "fashion-mnist-beta4", "fashion-mnist-ae", "digits"):
        need(name)


def _metrics(name: str) -> dict:
    return json.loads((ROOT / "checkpoints" / name / "meta.json").read_text())["metrics"]


def _table(at) -> dict[str, list[str]]:
    """The summary table: row label -> [A's value, B's value]."""
    df = at.table[0].value
    return {str(i): [str(v) for v in row] for i, row in zip(df.index, df.values, strict=True)}


def test_first_open_compares_the_default_pair_as_their_evaluations_do():
    at = open_link("spaces", {})
    assert_app_ok(at, errors=True)
    assert (at.session_state["sp_a"], at.session_state["sp_b"]) == ("fashion-mnist", "fashion-mnist-beta4")
    assert url(at)["a"] == "fashion-mnist" and url(at)["b"] == "fashion-mnist-beta4" and "sel" not in url(at)
    rows = _table(at)
    for col, name in enumerate(("fashion-mnist", "fashion-mnist-beta4")):
        m = _metrics(name)  # python -m vae evaluate on the same 10,000 test images
        assert float(rows["reconstruction error (MSE per pixel)"][col]) == pytest.approx(m["recon_mse"], abs=6e-5)
        assert float(rows["−ELBO (nats per image)"][col]) == pytest.approx(m["neg_elbo"], abs=0.2)
        assert rows["active units (Var(μ_j) > 0.01)"][col] == f"{m['active_units']} / 16"
        knn = float(rows["k-NN class accuracy in μ space (k = 5)"][col].rstrip("%")) / 100
        assert knn == pytest.approx(m["knn_acc"], abs=0.04), "leave-one-out on the test split, near the train-fit figure"
        assert 0.85 < float(rows["trustworthiness of its map (k = 10)"][col]) <= 1
    shared = next(m for m in at.metric if m.label == "Shared neighbours, all images")
    assert 1.0 < float(shared.value.split()[0]) < 10, shared.value
    assert len(at.get("plotly_chart")) == 3, "two maps and the histogram of shared neighbours"


def test_the_pair_and_the_selection_round_trip_through_the_link():
    sel = index_text.text(list(range(300, 420)) + [9001], 10_000)
    at = open_link("spaces", {"a": "fashion-mnist", "b": "fashion-mnist-ae", "sel": sel})
    assert not at.link_notices, at.link_notices
    assert_app_ok(at, errors=True)
    assert url(at)["sel"] == sel and url(at)["b"] == "fashion-mnist-ae"
    assert at.subheader[0].value == "121 images selected"
    maps = [c for c in at.get("plotly_chart") if '"selectedpoints"' in c.proto.spec]
    assert len(maps) == 2, "both maps start with the linked images selected"
    again = reopened(at, "spaces")
    same(at, again, ["sp_a", "sp_b", "sp_sel"])
    # one image: its place in both maps, and its neighbours in each space
    one = open_link("spaces", {**PAIR, "sel": "42"})
    assert one.subheader[0].value.startswith("#42 ")
    assert any(m.label == "Shared neighbours" for m in one.metric)
    # a changed pair keeps the selection (the same images)
    one.selectbox(key="sp_b").set_value("fashion-mnist-ae").run()
    assert_app_ok(one, errors=True)
    assert url(one)["sel"] == "42" and url(one)["b"] == "fashion-mnist-ae"


def test_a_pair_of_other_data_says_so_in_one_message():
    at = open_link("spaces", {"a": "fashion-mnist", "b": "digits"})
    assert_app_ok(at)
    assert len(at.error) == 1, [e.value for e in at.error]
    msg = at.error[0].value
    assert "fashion-mnist (fashion-mnist, 1×28×28 images)" in msg and "digits (digits, 1×8×8 images)" in msg
    assert "same data set" in msg
    assert not at.get("plotly_chart"), "no maps for a pair that cannot be compared"


def test_the_same_checkpoint_twice_asks_for_another():
    at = open_link("spaces", {"a": "fashion-mnist", "b": "fashion-mnist"})
    assert_app_ok(at, errors=True)
    assert any("Choose two different checkpoints" in i.value for i in at.info)


@pytest.mark.parametrize("key, bad, reason", [
    ("sel", "3,x", "not a list of image numbers"),
    ("sel", "10000", "outside 0 to 9999"),
    ("sel", "b.AAAA", "not a selection this app wrote"),
    ("b", "../../etc", "it is not one of"),
])
def test_a_malformed_value_falls_back_with_one_notice(key, bad, reason):
    at = open_link("spaces", {**PAIR, key: bad})
    assert len(at.link_notices) == 1 and f"({key}=" in at.link_notices[0] and reason in at.link_notices[0], \
        at.link_notices
    assert_app_ok(at, errors=True)
    assert url(at).get(key) != bad


@pytest.mark.slow  # encodes the 10,000 test images with the imported ONNX model
def test_an_imported_model_is_compared_with_ours_and_no_likelihood_shows_a_dash(imported_root, tmp_path, monkeypatch):
    """An imported ONNX model (tests/byo_model.py's) in the same checkpoint list; a copy that declares no
    likelihood (so no ELBO) shows — in the −ELBO row."""
    import shutil

    import pages._loaders

    root = tmp_path / "checkpoints"
    root.mkdir()
    (root / "fashion-mnist").symlink_to(ROOT / "checkpoints" / "fashion-mnist")
    shutil.copytree(imported_root / "theirs", root / "theirs")
    config = json.loads((root / "theirs" / "config.json").read_text())
    (root / "theirs" / "config.json").write_text(json.dumps({**config, "likelihood": "none"}))
    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    at = open_link("spaces", {"a": "theirs", "b": "fashion-mnist", "sel": "7"})
    assert_app_ok(at, errors=True)
    assert not at.link_notices, at.link_notices
    rows = _table(at)
    assert rows["−ELBO (nats per image)"][0] == "—", rows
    assert float(rows["−ELBO (nats per image)"][1]) == pytest.approx(_metrics("fashion-mnist")["neg_elbo"], abs=0.2)
    assert rows["latent dimensions"] == ["20", "16"]
    assert at.subheader[0].value.startswith("#7 ")
