"""The Map's linked views in Chromium (issue #34): a filter from the link marks on the Plotly map as many points
as vae.explore.crossfilter's mask of the shipped model's values (computed here, against pandas), the count
says so; a brush across the KL chart filters the map, and the link then holds the range it shows; on the
canvas map (digits, all 1,797 images) a filter from the link marks its images the search's way, and a box
on the map shows in the charts as their coloured part. Screenshots in tests/artifacts/ (map-filters-*.png)."""

from __future__ import annotations

import math
import re
import shutil
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from app_helpers import ROOT, fashion_test_set
from browser_helpers import new_tab, serving, shot, wait_app
from pagecheck import assert_page_ok

FOUND_JS = """
() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3);
  if (!gd) return null;
  const found = gd._fullData.find(t => t.name === 'search matches' || t.name === '查找结果');
  return found ? found.x.length : 0;
}
"""
IN_SELECTION = re.compile(r"of the map's selection \([\d,]+ images\)")
COUNT = re.compile(r"([\d,]+) of ([\d,]+) images pass")


def _count(pg) -> tuple[int, int]:
    text = pg.get_by_text(COUNT).first.inner_text()
    n, total = COUNT.search(text).groups()
    return int(n.replace(",", "")), int(total.replace(",", ""))


def _frame(enc) -> pd.DataFrame:
    return pd.DataFrame(  # float64, as the page and the server compare them (pages/_map_filters.table)
        {"class": enc.labels, "recon": enc.recon, "elbo": enc.neg_elbo, "kl": enc.kl, "sigma": enc.sigma_mean}
    ).astype({k: "float64" for k in ("recon", "elbo", "kl", "sigma")})


def _chart(pg, key: str):
    """Column ``key``'s chart (components/map_filter), scrolled into view."""
    plot = pg.locator(f'.vae-xf-chart[data-name="{key}"] canvas')
    plot.scroll_into_view_if_needed()
    return plot


def _brush(pg, key: str, start: float, end: float, release: bool = True) -> None:
    """Drag across column ``key``'s chart from ``start`` to ``end`` (shares of its width)."""
    box = _chart(pg, key).bounding_box()
    y = box["y"] + box["height"] * 0.5
    pg.mouse.move(box["x"] + box["width"] * start, y)
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] * end, y, steps=8)
    if release:
        pg.mouse.up()


#: The charts' terms as the page holds them now, and what its map marks for them (before the server reruns).
LOCAL_JS = (
    "() => ({terms: window.__vaeXf.terms, passing: window.__vaeXf.passing, veiled: (window.__vaeXfMap || {}).veiled})"
)


def _passing(df: pd.DataFrame, terms) -> int:
    keep = pd.Series(True, index=df.index)
    for name, t in terms:
        if "codes" in t:
            keep &= df[name].isin(t["codes"])
        else:
            keep &= df[name].between(
                -math.inf if t["lo"] is None else t["lo"], math.inf if t["hi"] is None else t["hi"]
            )
    return int(keep.sum())


def test_a_filter_in_the_link_and_a_brush_mark_the_plotly_map(page, server):
    enc, _ = fashion_test_set()
    df = _frame(enc)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server}/?ckpt=fashion-mnist&method=pca&filter=elbo:150..260;class:0,2,6")
    wait_app(page)
    want = int((df["elbo"].between(150, 260) & df["class"].isin([0, 2, 6])).sum())
    page.wait_for_function(f"() => ({FOUND_JS})() === {want}", timeout=120_000)
    assert _count(page) == (want, len(df))
    _chart(page, "kl")
    shot(page, "map-filters-link")

    before = page.evaluate("() => location.search")
    _brush(page, "kl", 0.15, 0.45, release=False)
    # while the pointer is down: the charts and the map follow in the page, the server not asked yet
    page.wait_for_function("() => window.__vaeXf.terms.some(([n]) => n === 'kl')")
    local = page.evaluate(LOCAL_JS)
    assert page.evaluate("() => location.search") == before
    assert local["passing"] == _passing(df, local["terms"]) == local["veiled"] > 0, local
    page.set_viewport_size({"width": 1280, "height": 1640})  # the map and the charts in one picture (README)
    page.locator(".st-key-map_search").evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "map-filters-brushing")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.mouse.up()
    page.wait_for_function("(b) => location.search !== b && location.search.includes('kl%3A')", arg=before)
    wait_app(page)
    text = parse_qs(urlparse(page.url).query)["filter"][0]
    terms = dict(t.split(":") for t in text.split(";"))
    lo, hi = (float(v) for v in terms["kl"].split(".."))
    assert terms["elbo"] == "150..260" and terms["class"] == "0,2,6", text
    assert enc.kl.min() < lo < hi < enc.kl.max(), (lo, hi)
    want = int((df["elbo"].between(150, 260) & df["class"].isin([0, 2, 6]) & df["kl"].between(lo, hi)).sum())
    page.wait_for_function(f"() => ({FOUND_JS})() === {want}", timeout=120_000)
    assert _count(page) == (want, len(df))
    shot(page, "map-filters-brushed")

    # a second chart's brush adds its term; the first chart (redrawn with new counts) keeps its own
    before = page.evaluate("() => location.search")
    _brush(page, "recon", 0.05, 0.5)
    page.wait_for_function("(b) => location.search !== b && location.search.includes('recon%3A')", arg=before)
    wait_app(page)
    again = dict(t.split(":") for t in parse_qs(urlparse(page.url).query)["filter"][0].split(";"))
    assert again["kl"] == terms["kl"] and again["elbo"] == "150..260" and again["class"] == "0,2,6", again
    r_lo, r_hi = (float(v) for v in again["recon"].split(".."))
    want = int(
        (
            df["elbo"].between(150, 260)
            & df["class"].isin([0, 2, 6])
            & df["kl"].between(lo, hi)
            & df["recon"].between(r_lo, r_hi)
        ).sum()
    )
    page.wait_for_function(f"() => ({FOUND_JS})() === {want}", timeout=120_000)
    assert _count(page) == (want, len(df))

    # a click on the class chart's "Bag" bar keeps that class alone; a shift-click adds "Sandal"
    chart = _chart(page, "class")
    width = chart.bounding_box()["width"]
    row = 15  # px: a category's bar (components/map_filter/map_filter.js; 10 classes fit)
    for code, shift in ((8, False), (5, True)):
        before = page.evaluate("() => location.search")
        chart.click(
            position={"x": width * 0.8, "y": 2 + (code + 0.5) * row}, modifiers=["Shift"] if shift else []
        )
        page.wait_for_function("(b) => location.search !== b", arg=before)
        wait_app(page)
    picked = dict(t.split(":") for t in parse_qs(urlparse(page.url).query)["filter"][0].split(";"))
    assert picked["class"] == "5,8", picked
    want = int(
        (
            df["elbo"].between(150, 260)
            & df["class"].isin([5, 8])
            & df["kl"].between(lo, hi)
            & df["recon"].between(r_lo, r_hi)
        ).sum()
    )
    page.wait_for_function(f"() => ({FOUND_JS})() === {want}", timeout=120_000)

    page.get_by_role("button", name="Clear filters").click()
    wait_app(page)
    page.wait_for_function(f"() => ({FOUND_JS})() === 0")
    assert "filter=" not in page.url
    # after a dozen reruns, one mount of each component that follows the map still listens (a rerun that changed
    # a mount's data once left the old one drawing too: 9 thumbnail redraws a pan after a few searches)
    mounts = page.evaluate("() => globalThis.__vaeActiveMounts")
    assert mounts["filter"] == 1 and mounts["thumbs"] == 1 and mounts.get("labels", 0) <= 1, mounts
    assert_page_ok(page)


def test_the_charts_answer_the_keyboard(page, server):
    """Tab to a chart: the class chart's ↓ and Space keep a class, the KL chart's → keeps a range (a bin wide), Esc
    clears; the link follows once the keys rest."""
    enc, _ = fashion_test_set()
    df = _frame(enc)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{server}/?ckpt=fashion-mnist&method=pca&filter=class:0")  # the panel opens with a filter on
    wait_app(page)
    _chart(page, "class").focus()
    before = page.evaluate("() => location.search")
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "Space"):  # the first ↓ is the first bar: Pullover (code 2)
        page.keyboard.press(key)
    page.wait_for_function("(b) => location.search !== b && location.search.includes('class%3A0%2C2')", arg=before)
    wait_app(page)
    _chart(page, "kl").focus()
    before = page.evaluate("() => location.search")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(b) => location.search !== b && location.search.includes('kl%3A')", arg=before)
    wait_app(page)
    terms = dict(t.split(":") for t in parse_qs(urlparse(page.url).query)["filter"][0].split(";"))
    lo, hi = (float(v) for v in terms["kl"].split(".."))
    assert terms["class"] == "0,2" and enc.kl.min() < lo < hi, terms
    assert _count(page)[0] == int((df["class"].isin([0, 2]) & df["kl"].between(lo, hi)).sum())
    _chart(page, "kl").focus()
    before = page.evaluate("() => location.search")
    page.keyboard.press("Escape")
    page.wait_for_function("(b) => location.search !== b && !location.search.includes('kl%3A')", arg=before)
    assert_page_ok(page)


@pytest.fixture(scope="module")
def digits_server(tmp_path_factory):
    """A server of this module's own on a copy of the shipped digits model, the canvas map above 1,000 images."""
    shipped = ROOT / "checkpoints" / "digits"
    if not (shipped / "model.safetensors").is_file():
        pytest.skip("the shipped checkpoints/digits is missing")
    root = tmp_path_factory.mktemp("filters") / "checkpoints"
    shutil.copytree(shipped, root / "digits")
    with serving({"VAE_CHECKPOINTS": str(root), "VAE_MAP_CANVAS_ABOVE": "1000"}) as server:
        yield server.url, root


def test_the_canvas_map_marks_the_filter_and_a_box_colours_the_charts(browser, digits_server):
    url, root = digits_server
    from vae.checkpoint import load_checkpoint
    from vae.explore.sets import all_parts, explore_parts

    ck = load_checkpoint(root / "digits")
    df = _frame(
        explore_parts(ck, all_parts(ck))
    )  # the explore set "all": the test split, then the train split
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    pg = new_tab(ctx)
    pg.goto(f"{url}/?ckpt=digits&split=all&method=pca&filter=class:3,8;recon:..{df['recon'].median():.4g}")
    wait_app(pg)
    limit = float(f"{df['recon'].median():.4g}")
    want = int((df["class"].isin([3, 8]) & (df["recon"] <= limit)).sum())
    assert 20 < want < 400, want
    pg.wait_for_function(
        "() => window.__vaeBigMap && window.__vaeBigMap.index && window.__vaeBigMap.mask", timeout=240_000
    )
    marked = pg.evaluate(
        "() => ({for: window.__vaeBigMap.maskFor, n: window.__vaeBigMap.mask.reduce((a, b) => a + b, 0)})"
    )
    assert marked == {"for": "found", "n": want}, marked
    assert _count(pg) == (want, len(df))
    _chart(pg, "class")
    shot(pg, "map-filters-canvas")

    # a brush on the KL chart: the canvas map marks what passes at once, before the server reruns
    before = pg.evaluate("() => location.search")
    _brush(pg, "kl", 0.05, 0.5, release=False)
    pg.wait_for_function("() => window.__vaeXf.terms.some(([n]) => n === 'kl')")
    local = pg.evaluate(LOCAL_JS)
    pg.wait_for_function(
        "(n) => window.__vaeBigMap.mask.reduce((a, b) => a + b, 0) === n", arg=local["passing"]
    )
    assert local["passing"] == _passing(df, local["terms"]), local
    assert pg.evaluate("() => location.search") == before
    pg.mouse.up()
    pg.wait_for_function("(b) => location.search !== b && location.search.includes('kl%3A')", arg=before)
    wait_app(pg)
    assert _count(pg)[0] == local["passing"]
    pg.get_by_role("button", name="Clear filters").click()
    wait_app(pg)
    pg.wait_for_function("() => !location.search.includes('filter=')")

    # a box on the map: the charts colour the selection's images that pass the other filters
    canvas = pg.locator("canvas.vae-big-map-canvas")
    canvas.scroll_into_view_if_needed()
    pg.locator('.vae-big-map-tools button[data-tool="box"]').click()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25
    pg.mouse.move(x0, y0)
    pg.mouse.down()
    pg.mouse.move(x0 + box["width"] * 0.5, y0 + box["height"] * 0.5, steps=6)
    pg.mouse.up()
    pg.get_by_text(IN_SELECTION).first.wait_for(timeout=120_000)
    wait_app(pg)
    selected = pg.evaluate("() => window.__vaeBigMap.mask.reduce((a, b) => a + b, 0)")
    caption = pg.get_by_text(IN_SELECTION).first.inner_text()
    assert f"of the map's selection ({selected:,} images)" in caption, (selected, caption)
    _chart(pg, "class")
    shot(pg, "map-filters-canvas-box")
    assert_page_ok(pg)
    ctx.close()


def test_the_emoji_colour_model_filters_by_class(page, server):
    """The colour model's explore set: a class filter from the link marks as many points as it has images."""
    if not (ROOT / "checkpoints" / "emoji" / "model.safetensors").is_file():
        pytest.skip("the shipped checkpoints/emoji is missing")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server}/?ckpt=emoji&method=pca&filter=class:0")
    wait_app(page)
    n, total = _count(page)
    assert 0 < n < total
    page.wait_for_function(f"() => ({FOUND_JS})() === {n}", timeout=120_000)
    _chart(page, "class")
    shot(page, "map-filters-emoji")
    assert_page_ok(page)


@pytest.fixture(scope="module")
def byo_server(imported_root, tmp_path_factory):
    """A server of this module's own over an imported ONNX model (tests/conftest.py ``imported_root``)."""
    with serving(
        {
            "VAE_CHECKPOINTS": str(imported_root),
            "VAE_EXPLORER_CACHE": str(tmp_path_factory.mktemp("filters-byo-cache")),
        }
    ) as server:
        yield server.url


def test_an_imported_model_is_filtered_by_its_values(browser, byo_server, imported_root):
    from vae.checkpoint import load_checkpoint
    from vae.explore.sets import explore_set

    ck = load_checkpoint(imported_root / "theirs")
    df = _frame(explore_set(ck, ck.load_data("test")))
    limit = float(f"{df['kl'].median():.4g}")
    want = int(((df["kl"] <= limit) & df["class"].isin([5, 9])).sum())
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = new_tab(ctx)
    pg.goto(f"{byo_server}/?ckpt=theirs&method=pca&filter=kl:..{limit:g};class:5,9")
    wait_app(pg)
    pg.wait_for_function(f"() => ({FOUND_JS})() === {want}", timeout=240_000)
    assert _count(pg) == (want, len(df))
    _chart(pg, "kl")
    shot(pg, "map-filters-imported")
    assert_page_ok(pg)
    ctx.close()
