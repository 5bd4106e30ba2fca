"""The whole demo state in the link (pages/_link.py), with streamlit's AppTest.

For every page: set its widgets, read the URL it writes, open that URL in a new session and find the
same state. A malformed value of each kind falls back with one notice that quotes it. The guided tour's
steps are links too: each opens its page in its state without an exception or a notice.
"""

from __future__ import annotations

import pytest
from app_helpers import need, notices, open_link, reopened, same, url
from pagecheck import assert_app_ok


# -- the registry ---------------------------------------------------------------------------------
def test_every_page_has_an_entry_and_keys_are_unique_with_the_shared_ones():
    import frame.navigation  # noqa: F401  (imports every page: each declares its keys)
    from pages import _link as link
    from pages._nav import NAMES

    assert set(NAMES) | {"*"} == set(link.PARAMS), "a page without its declaration, or one that is not a page"
    shared = {p.key for p in link.PARAMS["*"]} | {"ckpt"}
    for page, params in link.PARAMS.items():
        keys = [p.key for p in params]
        assert len(keys) == len(set(keys)), page
        if page != "*":
            assert not shared & set(keys), (page, shared & set(keys))


# -- round trips, page by page --------------------------------------------------------------------
def test_map_state_round_trips_and_the_point_is_selected_in_the_figure():
    at = open_link("map", {"ckpt": "digits"})
    at.selectbox(key="map_method").set_value("pca")
    at.selectbox(key="map_color").set_value("kl")
    at.toggle(key="map_prior").set_value(True).run()
    at.number_input(key="map_n_prior").set_value(150)
    at.session_state["selected_index"] = 17
    at.session_state["selected_for"] = "digits"
    at.run()
    assert_app_ok(at)
    assert url(at) | {} == {**url(at), "method": "pca", "color": "kl", "prior": "150", "point": "17"}
    again = reopened(at, "map")
    same(at, again, ["map_method", "map_color", "map_prior", "map_n_prior", "selected_index"])
    assert again.subheader[0].value.startswith("#17 "), "the point's panel is shown"
    spec = again.get("plotly_chart")[0].proto.spec
    assert '"selectedpoints":[' in spec, "the figure starts with the linked point selected"


def test_map_codes_per_image_and_the_clicked_sample_round_trip():
    at = open_link("map", {"ckpt": "digits", "method": "pca", "codes": "5", "sample": "42"})
    assert not at.link_notices, at.link_notices
    assert at.session_state["map_per_image"] == 5
    assert at.session_state["map_sample"]["index"] == 42
    assert at.subheader[0].value.startswith("#8 ") and "sample 3 of 5" in at.subheader[0].value, \
        "code 42 is the third sample of image 8"
    assert url(at) | {} == {**url(at), "codes": "5", "sample": "42", "point": "8"}
    again = reopened(at, "map")
    same(at, again, ["map_per_image", "selected_index"])
    assert again.session_state["map_sample"]["index"] == 42
    again.segmented_control(key="map_per_image").set_value(1).run()
    assert "codes" not in url(again) and "sample" not in url(again), "one code per image: the default, left out"


def test_map_points_switch_of_a_2d_model_round_trips():
    need("fashion-mnist-2d")
    at = open_link("map", {"ckpt": "fashion-mnist-2d", "method": "latent", "points": "0"})
    assert at.toggle(key="map_points").value is False
    assert url(at)["points"] == "0"
    again = reopened(at, "map")
    same(at, again, ["map_method", "map_points"])


def test_sliders_axes_and_code_round_trip():
    at = open_link("sliders", {"ckpt": "digits"})
    at.radio(key="sl_axes").set_value("pca").run()
    at.slider(key="sl_pc0").set_value(1.5).run()
    assert_app_ok(at)
    link = url(at)
    assert link["axes"] == "pca" and "z" in link
    again = reopened(at, "sliders")
    assert again.session_state["sl_axes"] == "pca"
    assert again.session_state["sl_start_label"] == "the code in the link"
    assert again.session_state["sl_start"] == pytest.approx([float(v) for v in link["z"].split(",")], abs=1e-6)
    assert url(again)["z"] == link["z"], "the same code, so the same image"


def test_sliders_image_link_starts_from_that_image_and_becomes_a_code():
    at = open_link("sliders", {"ckpt": "digits", "image": "5"})
    assert at.session_state["sl_start_label"].startswith("image #5 ")
    assert "image" not in url(at) and "z" in url(at), "an instruction, not state: the code takes its place"


@pytest.mark.parametrize("a, b", [("12", "class:3:mean"), ("prior:7", "class:4:2")])
def test_interpolate_endpoints_and_path_round_trip(a, b):
    at = open_link("interpolate", {"ckpt": "digits", "a": a, "b": b, "path": "slerp", "steps": "7", "t": "0.25"})
    link = url(at)
    assert (link["a"], link["b"], link["path"], link["steps"], link["t"]) == (a, b, "slerp", "7", "0.25")
    assert at.markdown[0].value.count("→") == 1
    again = reopened(at, "interpolate")
    keys = [k for k in at.session_state if k.startswith("interp_") and k.split("_")[1] in ("a", "b")]
    same(at, again, [*keys, "interp_path", "interp_steps", "interp_scrub"])
    assert again.markdown[0].value == at.markdown[0].value


def test_interpolate_tab_and_map_round_trip():
    at = open_link("interpolate", {"ckpt": "digits", "tab": "traversals"})
    assert at.session_state["interp_tab"] == "Traversals"
    at2 = open_link("interpolate", {"ckpt": "digits", "method": "pca"})
    assert at2.session_state["interp_map"] == "pca" and url(at2)["method"] == "pca"


def test_interpolate_map_defaults_to_the_map_pages_projection():
    at = open_link("interpolate", {"ckpt": "digits"})
    assert at.session_state["interp_map"] == "umap", "the Map page's default, not PCA"


def test_reconstructions_compared_checkpoint_round_trips():
    need("fashion-mnist")
    need("fashion-mnist-beta4")
    at = open_link("reconstructions", {"ckpt": "fashion-mnist", "compare": "fashion-mnist-beta4", "n": "4",
                                       "order": "worst_elbo", "class": "7"})
    assert at.session_state["rec_compare"] == "fashion-mnist-beta4"
    assert any("B = fashion-mnist-beta4" in m.value for m in at.markdown)
    again = reopened(at, "reconstructions")
    same(at, again, ["rec_compare", "rec_count", "rec_order", "rec_class"])


def test_generate_round_trips():
    at = open_link("generate", {"ckpt": "digits"})
    at.number_input(key="gen_count").set_value(12)
    at.slider(key="gen_temp").set_value(0.5)
    at.number_input(key="gen_seed").set_value(4).run()
    assert (url(at)["n"], url(at)["temp"], url(at)["seed"]) == ("12", "0.5", "4")
    same(at, reopened(at, "generate"), ["gen_count", "gen_temp", "gen_seed"])


def test_your_image_sample_round_trips():
    at = open_link("your_image", {"ckpt": "digits", "sample": "drawing", "drawing": "trousers"})
    assert at.selectbox(key="img_drawing").value == "trousers"
    same(at, reopened(at, "your_image"), ["img_sample_kind", "img_drawing", "img_invert"])
    at2 = open_link("your_image", {"ckpt": "digits", "sample": "data", "image": "33", "invert": "no"})
    same(at2, reopened(at2, "your_image"), ["img_sample_kind", "img_sample_index", "img_invert"])


def test_your_image_drawing_travels_in_the_link():
    """A drawing on the pad is in the link (quantised, compressed): the link reopens the page on it, with the
    same figures; a drawing of another model's size is refused with the link's notice."""
    import numpy as np

    from vae.data.drawings import encode_drawing

    plane = np.zeros((8, 8), np.float32)
    plane[1:7, 3:5] = 1.0  # a vertical bar, like a 1
    text = encode_drawing(plane)
    at = open_link("your_image", {"ckpt": "digits", "sample": "draw", "drawn": text})
    assert not at.link_notices and at.session_state["img_drawn"] == text
    assert "What the model sees" in [h.value for h in at.subheader], [h.value for h in at.subheader]
    assert url(at)["drawn"] == text and url(at)["sample"] == "draw"
    again = reopened(at, "your_image")
    assert again.session_state["img_drawn"] == text
    elbo = [[m.value for m in x.metric if m.label == "−ELBO (nats)"] for x in (at, again)]
    assert elbo[0] == elbo[1] and len(elbo[0]) == 1, elbo
    other = open_link("your_image", {"ckpt": "digits", "sample": "draw", "drawn": encode_drawing(np.ones((28, 28)))})
    assert len(other.link_notices) == 1 and "8×8" in other.link_notices[0], other.link_notices
    assert "What the model sees" not in [h.value for h in other.subheader]


def test_how_it_works_image_and_compared_checkpoint_round_trip():
    need("fashion-mnist")
    need("fashion-mnist-beta4")
    at = open_link("how_it_works", {"ckpt": "fashion-mnist", "image": "9", "eps": "3",
                                    "compare": "fashion-mnist-beta4"})
    assert (at.session_state["how_index"], at.session_state["how_eps_seed"]) == (9, 3)
    assert at.session_state["how_partner"] == "fashion-mnist-beta4"
    same(at, reopened(at, "how_it_works"), ["how_index", "how_eps_seed", "how_partner"])


def test_training_step_round_trips():
    at = open_link("training_step", {"ckpt": "digits"})
    at.number_input(key="step_batch_size").set_value(8)
    at.number_input(key="step_batch_seed").set_value(5)
    at.number_input(key="step_eps_seed").set_value(7)
    at.selectbox(key="step_lr").set_value(2e-3)
    at.select_slider(key="step_stage").set_value("loss").run()
    assert {k: url(at)[k] for k in ("batch", "bseed", "eps", "lr", "stage")} == \
        {"batch": "8", "bseed": "5", "eps": "7", "lr": "0.002", "stage": "loss"}
    again = reopened(at, "training_step")
    same(at, again, ["step_batch_size", "step_batch_seed", "step_eps_seed", "step_lr", "step_stage"])
    assert again.subheader[0].value == at.subheader[0].value  # the same stage shown


def test_ae_vs_vae_round_trips():
    need("fashion-mnist")
    need("fashion-mnist-ae")
    at = open_link("ae_vs_vae", {"ckpt": "fashion-mnist", "seed": "3", "from": "0", "to": "7", "dim": "5"})
    assert [at.session_state[k] for k in ("avv_seed", "avv_from", "avv_to", "avv_dim")] == [3, 0, 7, 5]
    at.selectbox(key="avv_to").set_value(9).run()
    assert url(at)["to"] == "9"
    same(at, reopened(at, "ae_vs_vae"), ["avv_seed", "avv_from", "avv_to", "avv_dim"])


def test_vae_vs_gan_round_trips():
    need("fashion-mnist")
    at = open_link("vae_vs_gan", {"ckpt": "fashion-mnist"})
    at.number_input(key="gan_seed").set_value(6)
    at.number_input(key="gan_image").set_value(42).run()
    assert (url(at)["seed"], url(at)["image"]) == ("6", "42")
    same(at, reopened(at, "vae_vs_gan"), ["gan_seed", "gan_image"])


def test_uses_round_trips():
    at = open_link("uses", {"ckpt": "digits"})
    at.number_input(key="uses_start").set_value(16)
    at.slider(key="uses_noise").set_value(0.7)
    at.selectbox(key="uses_mask").set_value("centre square")
    at.slider(key="uses_iters").set_value(5)
    at.selectbox(key="uses_ood").set_value(1)
    at.number_input(key="uses_comp_image").set_value(3).run()
    assert {k: url(at)[k] for k in ("start", "noise", "mask", "rounds", "ood", "image")} == \
        {"start": "16", "noise": "0.7", "mask": "centre", "rounds": "5", "ood": "1", "image": "3"}
    same(at, reopened(at, "uses"), ["uses_start", "uses_noise", "uses_mask", "uses_iters", "uses_ood",
                                    "uses_comp_image"])


def test_train_preset_round_trips_and_fills_the_form():
    at = open_link("train", {"ckpt": "digits", "preset": "classroom"})
    assert at.session_state["train_latent"] == 2 and at.session_state["train_dataset"] == "digits"
    assert at.session_state["train_warmup"] > 0 and at.number_input(key="train_epochs").disabled
    assert "--kl-warmup" in at.code[0].value
    same(at, reopened(at, "train"), ["train_preset", "train_epochs", "train_warmup"])


def test_shared_settings_round_trip_on_every_page():
    at = open_link("generate", {"ckpt": "digits", "present": "1", "split": "train", "tour": "9"})
    assert at.session_state["present"] is True and at.session_state["split"] == "train"
    assert at.session_state["tour_step"] == 9
    link = url(at)
    assert (link["present"], link["split"], link["tour"]) == ("1", "train", "9")
    same(at, reopened(at, "generate"), ["present", "split", "tour_step"])


def test_a_link_to_the_map_of_every_image_opens_it():
    """split=all (the 70k map's link) where the checkpoint's train split is here: digits has both."""
    at = open_link("map", {"ckpt": "digits", "split": "all", "point": "1500"})
    assert not at.link_notices, at.link_notices
    assert at.session_state["split"] == "all" and url(at)["split"] == "all"
    assert any("1,797 images (train + test)" in c.value for c in at.caption), [c.value for c in at.caption]
    assert at.subheader[0].value.startswith("#1500 · "), at.subheader[0].value  # a train image, chosen
    same(at, reopened(at, "map"), ["split", "selected_index"])


def test_the_language_is_in_the_link():
    """?lang= is a shared key: a Chinese link opens in Chinese and the URL it leaves keeps the language;
    a tour step's link carries the session's language."""
    from pages._tour import step_link

    at = open_link("generate", {"ckpt": "digits", "lang": "zh"})
    assert at.session_state["lang"] == "zh" and at.title[0].value == "生成"
    assert url(at)["lang"] == "zh"
    again = reopened(at, "generate")
    assert again.session_state["lang"] == "zh" and again.title[0].value == "生成"
    assert step_link(1)["lang"] == "en"  # outside a session: English


def test_a_link_to_another_checkpoint_switches_a_running_session():
    need("fashion-mnist")
    at = open_link("generate", {"ckpt": "digits"})
    at.query_params["ckpt"] = "fashion-mnist"  # what a tour step (st.switch_page with a link) does
    at.run()
    assert_app_ok(at)
    assert at.session_state["ckpt"] == "fashion-mnist"
    at.run()  # the session's own write is not mistaken for a new link
    assert at.session_state["ckpt"] == "fashion-mnist"


def test_a_widget_change_is_not_undone_by_the_link_it_replaced():
    at = open_link("generate", {"ckpt": "digits", "seed": "4"})
    at.number_input(key="gen_seed").set_value(9).run()
    at.run()
    assert at.session_state["gen_seed"] == 9 and url(at)["seed"] == "9"


# -- malformed values ------------------------------------------------------------------------------
@pytest.mark.parametrize("page, key, bad, state, default", [
    ("map", "method", "hyperbolic", "map_method", "umap"),
    ("map", "color", "<script>", "map_color", "class"),
    ("map", "prior", "7", "map_prior", False),
    ("map", "point", "99999", "selected_index", None),
    ("map", "point", "-1", "selected_index", None),
    ("map", "points", "maybe", "map_points", None),
    ("map", "codes", "3", "map_per_image", 1),
    ("map", "sample", "4", "map_sample", None),
    ("sliders", "axes", "diagonal", "sl_axes", "latent"),
    ("sliders", "image", "1e3", "sl_start_label", "the prior mean (z = 0)"),
    ("interpolate", "a", "class:99:mean", "interp_a_index", 0),
    ("interpolate", "b", "prior:x", "interp_b_kind", "index"),
    ("interpolate", "steps", "500", "interp_steps", 9),
    ("interpolate", "t", "nan", "interp_scrub", 0.5),
    ("interpolate", "tab", "Secret", "interp_tab", "Interpolation"),
    ("reconstructions", "compare", "../../etc", "rec_compare", None),
    ("reconstructions", "n", "1000000", "rec_count", 16),
    ("generate", "temp", "inf", "gen_temp", 1.0),
    ("your_image", "drawing", "unicorn", "img_sample_kind", "data"),
    ("your_image", "drawn", "1.bm90IGEgZHJhd2luZw", "img_drawn", None),
    ("how_it_works", "image", "abc", "how_index", 0),
    ("train", "preset", "overnight", "train_preset", "custom"),
    ("training_step", "lr", "0.3", "step_lr", 1e-4),
    ("training_step", "stage", "backprop", "step_stage", "x"),
    ("uses", "mask", "everything", "uses_mask", "left half"),
    ("uses", "noise", "-1", "uses_noise", 0.4),
    ("generate", "split", "validation", "split", "test"),
    ("generate", "present", "sometimes", "present", False),
    ("generate", "tour", "0", "tour_step", None),
    ("generate", "lang", "klingon", "lang", "en"),
])
def test_malformed_values_fall_back_with_one_notice(page, key, bad, state, default):
    at = open_link(page, {"ckpt": "digits", key: bad})
    found = at.link_notices
    assert len(found) == 1 and f"({key}=" in found[0] and bad[:20] in found[0], found
    assert (at.session_state[state] if state in at.session_state else None) == default
    at.run()
    assert_app_ok(at, page)
    assert not notices(at), "a bad value is reported once, not on every rerun"
    assert url(at).get(key) != bad, "the page's own state replaced it in the link"


# -- the guided tour -----------------------------------------------------------------------------
def test_every_tour_step_opens_its_page_in_its_state():
    """Each step's link (what Next does) on its page: no exception, no notice, and the step's values in
    the session state; the bar shows the step's talking points."""
    from pages import _link as link
    from pages._tour import step_link
    from pages._tour_steps import STEPS

    for name in {s.params.get("ckpt", "fashion-mnist") for s in STEPS} | {"fashion-mnist"}:
        need(name)
    for k, s in enumerate(STEPS, start=1):
        assert 2 <= len(s.points) <= 3, s.title
        at = open_link(s.page, step_link(k))
        assert not at.link_notices, (k, at.link_notices)
        assert not at.error, (k, [e.value for e in at.error])
        assert at.session_state["tour_step"] == k
        for p in link.PARAMS[s.page]:
            if p.key in s.params and p.key not in ("image",):  # "image" is an instruction, not state
                assert url(at).get(p.key) == s.params[p.key], (k, p.key, url(at).get(p.key))
        bar = " ".join(m.value for m in at.markdown)
        assert f"step {k} of {len(STEPS)}" in bar and s.points[0][:40] in bar, k
