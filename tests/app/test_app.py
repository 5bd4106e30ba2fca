"""The app's frame, Map and Sliders pages, through streamlit.testing.v1.AppTest."""

from pathlib import Path

import numpy as np
import pytest
from app_helpers import app_test, switch
from pagecheck import assert_app_ok

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["fashion-mnist", "fashion-mnist-2d", "fashion-mnist-beta4", "fashion-mnist-ae", "digits"]


def app(ckpt="digits", method=None, **state):
    at = app_test(300)
    at.session_state["ckpt"] = ckpt
    if method:
        at.session_state["map_method"] = method
    for k, v in state.items():
        at.session_state[k] = v
    return at


def image_urls(at):
    """The media URLs of every st.image on the page (they change when the pixels change)."""
    urls = []
    for el in at.get("image"):
        urls += [img.url for img in el.proto.imgs]
    return urls


def need(name):
    if not (ROOT / "checkpoints" / name / "model.safetensors").exists():
        pytest.skip(f"checkpoints/{name} is not there")


@pytest.mark.parametrize("ckpt", SHIPPED)
def test_map_page_runs_on_every_shipped_checkpoint(ckpt):
    need(ckpt)
    at = app(ckpt)
    at.run()
    assert_app_ok(at)
    assert at.title[0].value == "Map of the latent space"
    assert not at.error
    chart = [e for e in at.get("plotly_chart")]
    assert chart, "the map chart is missing"


def test_sidebar_lists_broken_checkpoints_without_crashing(tmp_path, monkeypatch):
    import shutil

    broken = ROOT / "checkpoints" / "zz-broken-test"
    shutil.copytree(ROOT / "checkpoints" / "digits", broken, ignore=shutil.ignore_patterns("projections"))
    try:
        (broken / "model.safetensors").write_bytes(b"garbage")
        at = app("digits")
        at.run()
        assert_app_ok(at)
        assert "zz-broken-test" not in at.sidebar.selectbox[0].options
        texts = " ".join(m.value for m in at.sidebar.markdown)
        assert "zz-broken-test" in texts and "corrupted" in texts
    finally:
        shutil.rmtree(broken)


def test_checkpoint_param_with_path_is_refused():
    at = app_test(300)
    at.query_params["ckpt"] = "../../etc"
    at.run()
    assert_app_ok(at)
    assert any("not a loadable checkpoint" in w.value for w in at.warning)
    assert at.session_state["ckpt"] != "../../etc"


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_map_projections_and_colourings(method):
    at = app("digits", method, map_color="kl", map_prior=True)
    at.run()
    assert_app_ok(at)


def test_map_2d_model_uses_latent_space():
    need("fashion-mnist-2d")
    at = app("fashion-mnist-2d")
    at.run()
    assert_app_ok(at)
    assert at.selectbox(key="map_method").value == "latent"


def test_slider_changes_the_decoded_image():
    at = app("digits")
    switch(at, "pages/sliders.py").run()
    assert_app_ok(at)
    before = image_urls(at)
    at.slider[0].set_value(2.5).run()
    assert_app_ok(at)
    after = image_urls(at)
    assert before[0] != after[0], "the decoded image did not change"
    at.run()
    assert image_urls(at)[0] == after[0], "the image changed without a slider move"


def test_sliders_are_ordered_by_kl_and_collapsed_dims_hidden():
    at = app("digits")
    switch(at, "pages/sliders.py").run()
    kls = [float(s.label.split("KL ")[1].split(" ")[0]) for s in at.slider]
    labels = [s.label for s in at.slider]
    assert all("collapsed" not in lab for lab in labels)
    at.toggle(key="sl_show_collapsed").set_value(True).run()
    assert len(at.slider) >= len(kls)
    assert all(k >= 0.05 for k in kls)


def test_query_param_round_trip_restores_the_code():
    at = app("digits")
    switch(at, "pages/sliders.py").run()
    key = at.slider[0].key
    at.slider[0].set_value(1.5).run()
    link = at.query_params["z"]
    code = [float(v) for v in (link[0] if isinstance(link, list) else link).split(",")]
    # a new session opened from the link
    at2 = app_test(300)
    at2.query_params["ckpt"] = "digits"
    at2.query_params["z"] = ",".join(str(v) for v in code)
    switch(at2, "pages/sliders.py").run()
    assert_app_ok(at2)
    d = int(key.removeprefix("sl_z"))
    assert at2.slider(key=key).value == pytest.approx(1.5)
    assert at2.session_state["sl_start"][d] == pytest.approx(code[d], abs=1e-3)


@pytest.mark.parametrize("bad", ["1,2", "nan,0,0,0,0,0,0,0", "a,b,c,d,e,f,g,h", "inf,0,0,0,0,0,0,0"])
def test_malformed_code_in_url_falls_back_with_a_notice(bad):
    at = app_test(300)
    at.query_params["ckpt"] = "digits"
    at.query_params["z"] = bad
    switch(at, "pages/sliders.py").run()
    assert_app_ok(at)
    assert any("Ignored the link's code" in w.value for w in at.warning)
    assert all(v == 0.0 for v in at.session_state["sl_start"])


def test_steer_from_map_selection_starts_sliders_there():
    at = app("digits", "pca")
    at.run()
    at.session_state["sliders_start_request"] = {"kind": "index", "index": 7}
    switch(at, "pages/sliders.py").run()
    assert_app_ok(at)
    assert "image #7" in at.session_state["sl_start_label"]


def test_fast_maps_agree_with_the_data_in_the_app_context():
    """A point's own 2-D position maps back close to its code, and its code close to its position."""
    from vae.checkpoint import load_checkpoint
    from vae.explore.projection import ProjectionConfig, build_latent_map
    from vae.explore.sets import explore_set, projection

    ck = load_checkpoint(ROOT / "checkpoints" / "digits")
    data = ck.load_data("test")
    enc = explore_set(ck, data)
    coords, _ = projection(ck, "test", enc, ProjectionConfig(method="umap"))
    lm = build_latent_map(enc.mu, coords, "umap")
    assert np.abs(lm.to_latent(coords) - enc.mu).max() < 1e-4
    assert np.abs(lm.to_map(enc.mu) - coords).max() < 1e-4


def test_decode_pins_torch_threads_in_a_fresh_thread():
    """A fragment's rerun runs in a new thread that never calls get_ctx: Ctx.decode pins torch
    itself (two OpenMP threads cost 40 ms a slider move on 2 cores shared with the browser)."""
    import threading

    import torch

    from pages._context import INFERENCE_THREADS, Ctx
    from vae.checkpoint import load_checkpoint

    need("digits")
    ck = load_checkpoint(ROOT / "checkpoints" / "digits")
    ctx = Ctx("digits", ck, None, None, "test", None, "cpu")
    seen = {}

    def rerun():
        torch.set_num_threads(INFERENCE_THREADS + 1)  # what a new thread may start with
        seen["image"] = ctx.decode(np.zeros((1, ck.config.latent_dim), np.float32))
        seen["threads"] = torch.get_num_threads()

    worker = threading.Thread(target=rerun)
    worker.start()
    worker.join()
    assert seen["threads"] == INFERENCE_THREADS
    assert tuple(seen["image"].shape) == (1, 1, 8, 8)


def _frozen(obj) -> bool:
    """Whether ``gc.freeze`` has moved ``obj`` to the permanent generation, which ``gc.get_objects``
    leaves out. (Counting with ``gc.get_freeze_count`` raced: frozen objects that other threads of the
    test process free by reference counting leave the count, 915,341 -> 915,339 in one run.)"""
    import gc

    return not any(o is obj for o in gc.get_objects())


def test_settle_heap_freezes_once_per_page():
    import gc

    from frame.heap import settle_heap

    gc.unfreeze()
    try:
        old = [[]]  # alive before the page's first run
        settle_heap("test-page-a")
        assert gc.get_freeze_count() > 0 and _frozen(old)
        fresh = [[]]  # a new object, alive
        settle_heap("test-page-a")
        assert not _frozen(fresh), "the page's second run froze the heap again (once per page)"
        settle_heap("test-page-b")
        assert _frozen(fresh), "another page's first run did not freeze the heap"
    finally:
        gc.unfreeze()


def test_a_page_opened_directly_draws_the_frame_whatever_other_sessions_do():
    """A deep link is the first page a session runs: Streamlit runs the app's script (frame/main.py),
    never a page file on its own, because no pages/ folder lies beside that script (Streamlit's legacy
    multipage mode, which sessions of one server switched off for each other, is never on). The page
    draws the frame: sidebar and checkpoint, no error, even with the legacy flag set by another app."""
    from app_helpers import SCRIPT
    from streamlit.runtime.pages_manager import PagesManager

    assert not (SCRIPT.parent / "pages").exists(), "a pages/ folder beside the script turns on the legacy mode"
    at = app_test(300)
    switch(at, "how_it_works").run()
    assert_app_ok(at, "how it works, opened directly", errors=True)
    assert [s.label for s in at.sidebar.selectbox][:1] == ["Checkpoint"], [s.label for s in at.sidebar.selectbox]
    assert at.title[0].value == "How it works"
    assert PagesManager.uses_pages_directory is False
