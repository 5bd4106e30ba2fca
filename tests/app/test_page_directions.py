"""The Directions page (pages/directions.py): each row is labelled with the name vae.explore.direction_sets
gives its direction (computed here from the checkpoint and the shipped classifier), the grid is decoded
in one call from the library's traversal codes, the analogy's neighbours are a brute-force search's, all
of it in the link; a chosen direction opens on Sliders (a slider of its own, named) and on Interpolate;
in Chinese; on every shipped checkpoint and on an imported ONNX model."""

from __future__ import annotations

import gettext

import numpy as np
import pytest
import torch
from app_helpers import ROOT, need, open_link, reopened, same, url
from pagecheck import assert_app_ok

from vae.baselines.classifier import KIND as CLASSIFIER
from vae.baselines.classifier import load_classifier
from vae.checkpoint import find_model, load_checkpoint
from vae.explore.direction_sets import name_all, source_directions, traversal_grid
from vae.explore.directions import start_codes
from vae.explore.latent import decode

FM = "fashion-mnist"
ZH = gettext.translation("messages", ROOT / "locale", languages=["zh"])
SNEAKER, BOOT, SANDAL = 7, 9, 5


@pytest.fixture(scope="module")
def shipped():
    need(FM)
    ck = load_checkpoint(ROOT / "checkpoints" / FM)
    data = ck.load_data("test")
    mu = np.asarray(ck.model.embed(data.images)[0], np.float32)
    return ck, mu, data.labels.numpy()


def expected_names(ck, mu, labels, dirs) -> list:
    clf = load_classifier(find_model(ROOT / "models", CLASSIFIER, ck.dataset))
    bg = ck.data_background()
    return name_all(dirs, lambda z: decode(ck.model, z), start_codes(mu, labels, 2), mu, labels,
                    read=clf.model.predict, class_names=list(clf.class_names), background=bg.lightness if bg else None)


def rows(at) -> list[str]:
    """The grid's row labels, top to bottom."""
    return [m.value for m in at.markdown if " · " in m.value and "  \n" in m.value]


@pytest.fixture()
def decodes(monkeypatch):
    """Every batch of codes the pages decode (pages/_context.Ctx.decode), in order."""
    import pages._context

    seen, real = [], pages._context.decode

    def counting(model, z):
        seen.append(np.array(z))
        return real(model, z)

    monkeypatch.setattr(pages._context, "decode", counting)
    return seen


def test_sefa_rows_are_named_ranked_and_decoded_in_one_call(shipped, decodes):
    ck, mu, labels = shipped
    at = open_link("directions", {"ckpt": FM, "source": "sefa", "rows": "5", "start": f"mean:{SNEAKER}"})
    dirs = source_directions("sefa", mu, model=ck.model)
    names = expected_names(ck, mu, labels, dirs[:5])
    shown = rows(at)
    assert len(shown) == 5
    for k, (label, name) in enumerate(zip(shown, names, strict=True)):
        assert label.lstrip("▶ ").startswith(f"**SeFa{k + 1}** · eigenvalue "), label
        assert label.endswith("\n" + name.text()), (label, name.text())
    assert len(decodes) == 1, "one decode for the whole grid"
    start = mu[labels == SNEAKER].astype(np.float64).mean(0)
    want = traversal_grid(start, dirs[:5], np.linspace(-3, 3, 7))
    np.testing.assert_allclose(decodes[0], want, atol=1e-5)
    # by name: the same rows' names in alphabetical order
    decodes.clear()
    at.radio(key="dir_sort").set_value("name").run()
    everything = sorted((n.text() for n in expected_names(ck, mu, labels, dirs)), key=str.casefold)
    assert [r.split("\n")[-1] for r in rows(at)] == everything[:5]
    assert len(decodes) == 1


def test_class_to_class_sneaker_to_boot_from_a_sneaker_image(shipped, decodes):
    ck, mu, labels = shipped
    i = int(np.flatnonzero(labels == SNEAKER)[0])
    at = open_link("directions", {"ckpt": FM, "source": "class", "from": str(SNEAKER), "to": str(BOOT),
                                  "start": str(i)})
    (row,) = rows(at)
    (d,) = source_directions("class", mu, labels, class_names=list(ck.class_names), pair=(SNEAKER, BOOT))
    np.testing.assert_allclose(d.vector, mu[labels == BOOT].mean(0) - mu[labels == SNEAKER].mean(0), atol=1e-5)
    assert row.lstrip("▶ ").startswith("**Sneaker → Ankle boot** · length ‖v‖ = ")
    assert row.endswith("\n" + expected_names(ck, mu, labels, [d])[0].text())
    np.testing.assert_allclose(decodes[-1][-1], np.clip(mu[i] + d.vector, -4, 4), atol=1e-5)  # +3: one class step
    at.selectbox(key="dir_to").set_value("all").run()
    assert len(rows(at)) == 8 and all(r.lstrip("▶ ").startswith("**Sneaker → ") for r in rows(at))


def test_the_link_round_trips(shipped):
    at = open_link("directions", {"ckpt": "digits", "source": "pca", "rows": "3", "sort": "name", "start": "12",
                                  "row": "pca:2", "reach": "2.5"})
    assert not at.link_notices
    link = url(at)
    assert {k: link[k] for k in ("source", "rows", "sort", "start", "row", "tab", "reach")} == \
        {"source": "pca", "rows": "3", "sort": "name", "start": "12", "row": "pca:2", "tab": "grid", "reach": "2.5"}
    again = reopened(at, "directions")
    same(at, again, ["dir_source", "dir_rows", "dir_sort", "dir_start_kind", "dir_start_index", "dir_row", "dir_reach"])
    assert rows(again) == rows(at)
    at.segmented_control(key="dir_tab").set_value("analogy").run()
    at.radio(key="dir_b_kind").set_value("image").run()
    at.number_input(key="dir_b_index").set_value(40).run()
    link = url(at)
    assert link["tab"] == "analogy" and link["b"] == "40" and link["a"] == "0"
    again = reopened(at, "directions")
    same(at, again, ["dir_tab", "dir_a_kind", "dir_a_index", "dir_b_kind", "dir_b_index", "dir_c_kind", "dir_c_class"])


@pytest.mark.parametrize("key, bad", [("row", "sefa:99"), ("start", "mean:x"), ("to", "42"), ("source", "umap"),
                                      ("a", "99999")])
def test_malformed_values_fall_back_with_one_notice(key, bad):
    at = open_link("directions", {"ckpt": "digits", key: bad})
    assert len(at.link_notices) == 1 and f"({key}=" in at.link_notices[0], at.link_notices
    assert url(at).get(key) != bad


@pytest.mark.parametrize("bad", ["class:3:3", "sefa:99", "tsne:1"])
def test_a_bad_direction_on_sliders_falls_back_with_one_notice(bad):
    at = open_link("sliders", {"ckpt": "digits", "dir": bad})
    assert len(at.link_notices) == 1 and "(dir=" in at.link_notices[0], at.link_notices
    assert "dir" not in url(at) and not [s for s in at.slider if s.key == "sl_dir_t"]


def test_analogy_and_its_nearest_images_against_brute_force(shipped):
    ck, mu, labels = shipped
    at = open_link("directions", {"ckpt": FM, "tab": "analogy"})
    sandal = int(np.flatnonzero(labels == SANDAL)[0])
    assert (url(at)["a"], url(at)["b"], url(at)["c"]) == (str(sandal), f"mean:{SANDAL}", f"mean:{BOOT}")
    q = mu[sandal].astype(np.float64) - mu[labels == SANDAL].mean(0) + mu[labels == BOOT].mean(0)
    dist = np.linalg.norm(mu - q, axis=1)
    nearest = np.argsort(dist, kind="stable")[:6]
    (captions,) = [list(im.captions) for im in at.get("image") if len(im.captions) == 6]
    assert captions == [f"#{j} {ck.class_names[labels[j]]} · {dist[j]:.2f}" for j in nearest], captions
    assert any(c.startswith("On the UMAP map: a (○), the result (★)") for im in at.get("image") for c in im.captions)


def test_a_point_picked_on_the_map_is_the_analogys_a(shipped):
    """Picked on the Map (image #0, an ankle boot): the analogy starts from it, minus its class, plus another."""
    ck, mu, labels = shipped
    at = open_link("directions", {"ckpt": FM, "tab": "analogy"}, state={"selected_index": 0, "selected_for": FM})
    assert url(at)["a"] == "0" and url(at)["b"] == f"mean:{labels[0]}", url(at)


def test_a_direction_opens_on_sliders_with_its_name_and_steps_along_it(shipped):
    ck, mu, labels = shipped
    i = int(np.flatnonzero(labels == SNEAKER)[0])
    at = open_link("directions", {"ckpt": FM, "source": "class", "from": str(SNEAKER), "to": str(BOOT),
                                  "start": str(i)})
    at.button(key="dir_to_sliders").click().run()
    assert_app_ok(at, "sliders from directions")
    assert url(at)["dir"] == f"class:{SNEAKER}:{BOOT}"
    (d,) = source_directions("class", mu, labels, class_names=list(ck.class_names), pair=(SNEAKER, BOOT))
    name = expected_names(ck, mu, labels, [d])[0]
    chosen = at.slider(key="sl_dir_t")
    assert chosen.label == "★ " + name.text(), chosen.label
    # AppTest reruns the page it was opened on: go on in a session opened from the Sliders page's link
    at = reopened(at, "sliders")
    assert at.slider(key="sl_dir_t").label == chosen.label, "the direction is in the link"
    z0 = np.array([float(v) for v in url(at)["z"].split(",")])
    np.testing.assert_allclose(z0, mu[i], atol=6e-3)  # latent sliders keep 2 decimals
    at.slider(key="sl_dir_t").set_value(3.0).run()
    z1 = np.array([float(v) for v in url(at)["z"].split(",")])
    np.testing.assert_allclose(z1, np.clip(z0 + d.vector, -4, 4), atol=3e-3)
    at.button(key="sl_dir_remove").click().run()
    assert "dir" not in url(at) and not [s for s in at.slider if s.key == "sl_dir_t"]


def test_a_direction_opens_on_interpolate_from_the_start_to_its_end(shipped):
    ck, mu, labels = shipped
    at = open_link("directions", {"ckpt": FM, "source": "sefa", "start": f"mean:{SNEAKER}", "row": "sefa:1"})
    at.button(key="dir_to_interp").click().run()
    assert_app_ok(at, "interpolate from directions")
    link = url(at)
    sefa = source_directions("sefa", mu, model=ck.model)[1]
    start = mu[labels == SNEAKER].mean(0)
    for end, want in (("a", start), ("b", np.clip(start + 3 * sefa.vector, -4, 4))):
        assert link[end].startswith("z:")
        np.testing.assert_allclose([float(v) for v in link[end][2:].split(",")], want, atol=2e-3)
    assert "a code from the link" in at.markdown[0].value
    again = reopened(at, "interpolate")
    assert url(again)["b"] == link["b"]


def test_in_chinese():
    at = open_link("directions", {"ckpt": FM, "lang": "zh", "source": "class", "from": str(SNEAKER)})
    assert at.title[0].value == ZH.gettext("Directions") != "Directions"
    text = " ".join(rows(at))
    assert all(w not in text for w in ("Sneaker", "Ankle boot", "length", "ink", "wider")), text


@pytest.mark.parametrize("ckpt", ["fashion-mnist-ae", "digits"])
def test_every_source_on_the_other_shipped_checkpoints(ckpt):
    need(ckpt)
    at = open_link("directions", {"ckpt": ckpt})
    for source in [o for o in at.radio(key="dir_source").options]:
        at.radio(key="dir_source").set_value(source).run()
        assert_app_ok(at, f"directions, {ckpt}, {source}")
        assert rows(at), source
    at.segmented_control(key="dir_tab").set_value("analogy").run()
    assert_app_ok(at, f"directions, {ckpt}, analogy")


@pytest.fixture()
def imported(imported_root, tmp_path, monkeypatch):
    """The app on the folder with TheirVAE imported as ONNX graphs (tests/conftest.py's imported_root)."""
    import pages._loaders

    monkeypatch.setattr(pages._loaders, "CHECKPOINT_ROOT", imported_root)
    monkeypatch.setattr(pages._loaders, "DEFAULT_CACHE_DIR", tmp_path)
    threads = torch.get_num_threads()
    yield imported_root
    torch.set_num_threads(threads)


def test_an_imported_onnx_model(imported, their_vae, decodes):
    at = open_link("directions", {"ckpt": "theirs", "source": "sefa", "rows": "4", "start": "mean:3"})
    assert not at.link_notices
    ck = load_checkpoint(imported / "theirs")
    mu = np.asarray(ck.model.embed(ck.load_data("test").images)[0], np.float32)
    labels = ck.load_data("test").labels.numpy()
    a = their_vae.fc3.weight.detach().numpy().astype(np.float64)  # the decoder's first layer, in torch
    values = np.linalg.eigvalsh(a.T @ a)[::-1]
    assert [r.lstrip("▶ ").split(" · ")[0] for r in rows(at)] == [f"**SeFa{k}**" for k in range(1, 5)]
    assert f"eigenvalue {values[0]:.3g} " in rows(at)[0]
    assert len(decodes) == 1 and decodes[0].shape == (4 * 7, 20)
    at.segmented_control(key="dir_tab").set_value("analogy").run()
    assert_app_ok(at, "directions, imported, analogy")
    at.segmented_control(key="dir_tab").set_value("grid").run()
    at.button(key="dir_to_sliders").click().run()
    assert_app_ok(at, "sliders from directions, imported")
    assert at.slider(key="sl_dir_t").label.startswith("★ SeFa1 · ")
    assert mu.shape[1] == 20 and len(labels) == len(mu)
