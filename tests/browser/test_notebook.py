"""The explorer from a notebook (vae.explore): a real notebook run headless by nbclient against the app.

- What explore() refuses, before any server starts: one exception naming the value and the fix.
- The exchange file between the Map page and the notebook: only a session the notebook opened, under a
  token of the strict form, is ever written; one session's write never touches another's file.
- The notebook (slow): a kernel of this project's Python runs ``vae.explore("checkpoints/digits")``; its
  output (the iframe) is put in a page as Jupyter shows it, and Chromium clicks a point and draws a box
  on the Map inside that iframe; the next cells print ``session.selection``, which must be the images the
  page selected. Then an in-memory model in a second session of the same server, closed again, and the
  server gone once the kernel has shut down.
"""

from __future__ import annotations

import html
import json
import re
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from app_helpers import switch

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "checkpoints" / "digits"


# -- what explore() refuses -------------------------------------------------------------------------
def _tiny_vae():
    from vae.config import ModelConfig
    from vae.model import VAE

    return VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=2, hidden_dims=(8,)))


class NotAVAE:
    pass


@pytest.mark.parametrize("call, error, named", [
    (lambda e: e(42), TypeError, "int"),
    (lambda e: e(NotAVAE()), TypeError, "NotAVAE"),
    (lambda e: e("/no/such/checkpoint"), "CheckpointError", "/no/such/checkpoint"),
    (lambda e: e(DIGITS, dataset="fashion-mnist"), ValueError, "dataset='fashion-mnist'"),
    (lambda e: e(DIGITS, split="validation"), ValueError, "split='validation'"),
    (lambda e: e(DIGITS, page="nowhere"), ValueError, "page='nowhere'"),
    (lambda e: e(DIGITS, height=10), ValueError, "height=10"),
    (lambda e: e(DIGITS, name="../etc"), ValueError, "name='../etc'"),
    (lambda e: e(DIGITS, port=80), ValueError, "port=80"),
    (lambda e: e(_tiny_vae()), ValueError, "dataset="),
    (lambda e: e(_tiny_vae(), dataset="mnistt"), ValueError, "dataset='mnistt'"),
    (lambda e: e(_tiny_vae(), dataset="fashion-mnist"), ValueError, "(1, 28, 28)"),
])
def test_a_bad_target_or_value_is_one_error_naming_it_and_starts_nothing(call, error, named):
    from vae import notebook
    from vae.errors import CheckpointError
    from vae.notebook import server as notebook_server

    error = CheckpointError if error == "CheckpointError" else error
    with pytest.raises(error) as e:
        call(notebook.explore)
    assert named in str(e.value) and "\n" not in str(e.value), str(e.value)
    assert notebook_server._SERVER is None, "a refused call started the server"


def test_a_split_that_is_not_here_is_refused_with_how_to_fetch_it(monkeypatch):
    from vae import notebook
    from vae.notebook import server as notebook_server

    monkeypatch.setattr(notebook, "dataset_available", lambda name, split: split == "test")
    with pytest.raises(ValueError) as e:
        notebook.explore(DIGITS, split="all")
    assert "digits's data set, 'digits', has no train split" in str(e.value), str(e.value)
    assert "python -m vae data --fetch digits" in str(e.value), str(e.value)
    with pytest.raises(ValueError, match="dataset='digits' has no train split"):
        notebook.explore(_tiny_vae(), dataset="digits", split="train")
    assert notebook_server._SERVER is None


def test_without_the_app_beside_the_package_it_says_so(monkeypatch, tmp_path):
    from vae import notebook
    from vae.notebook import server as notebook_server

    monkeypatch.setattr(notebook_server, "APP_FILE", tmp_path / "app.py")
    with pytest.raises(RuntimeError, match="holds the library only"):
        notebook.explore(DIGITS)
    assert notebook_server._SERVER is None


def test_the_pages_explore_may_open_are_the_apps_with_the_map_first():
    from pages._nav import NAMES
    from vae.notebook import PAGES

    assert list(PAGES) == list(NAMES), "vae.notebook.PAGES and the app disagree"


def test_importing_vae_leaves_the_notebook_module_out_until_explore_is_used():
    import subprocess

    code = ("import sys, vae; print('vae.notebook' in sys.modules); "
            "print(vae.explore is sys.modules['vae.notebook'].explore, 'explore' in vae.__all__)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True", "True"], r.stdout


# -- the exchange file ------------------------------------------------------------------------------
def test_the_page_writes_only_a_session_the_notebook_opened_and_never_another(tmp_path):
    from vae.notebook import exchange as ex

    a, b = ex.new_token(), ex.new_token()
    ex.open_session(tmp_path, a, "digits", "test")
    ex.open_session(tmp_path, b, "vae-1234", "test")
    before_b = (tmp_path / f"{b}.json").read_bytes()
    for bad in ("../" + a, a + "/x", "short", "", "a" * 65, ex.new_token()):  # the last: well formed, never opened
        assert not ex.publish(tmp_path, bad, "digits", "test", [1], 1), bad
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{a}.json", f"{b}.json"]), "a file was created"
    assert ex.publish(tmp_path, a, "digits", "test", [3, 17, 250], None)
    rec = ex.read(tmp_path, a)
    assert (rec["checkpoint"], rec["split"], rec["indices"], rec["point"]) == ("digits", "test", [3, 17, 250], None)
    assert (tmp_path / f"{b}.json").read_bytes() == before_b, "another session's file changed"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")], "a temporary file was left"


@pytest.mark.parametrize("data_idx, many, other, chosen, want", [
    ([9, 3, 9, 5], True, False, 7, ([3, 5, 9], None)),  # a box or lasso: its images, sorted, once each
    ([], True, False, 7, ([], None)),  # a shape around no image
    ([4], False, False, 7, ([4], 4)),  # a clicked image
    ([], False, True, 7, ([], None)),  # a decoded spot or a prior sample: no image
    ([], False, False, 7, ([7], 7)),  # nothing picked on the chart: the image chosen earlier
    ([], False, False, None, ([], None)),
])
def test_what_the_panel_shows_is_what_the_notebook_gets(data_idx, many, other, chosen, want):
    from vae.notebook.exchange import shown_selection

    assert shown_selection(data_idx, many, other, chosen) == want


# -- the page's side, through AppTest ------------------------------------------------------------------
def test_the_map_of_a_notebook_link_writes_its_session_and_a_bad_token_only_earns_a_notice(tmp_path, monkeypatch):
    """?nb= names the notebook's session (a key every page keeps in the link); the Map writes what its
    panel shows into that session's file. A token this server's notebook never opened is one notice,
    and nothing is written."""
    from app_helpers import open_link, url

    from vae.notebook import exchange as ex

    monkeypatch.setenv(ex.ENV, str(tmp_path))
    token, stranger = ex.new_token(), ex.new_token()
    ex.open_session(tmp_path, token, "digits", "test")
    at = open_link("map", {"ckpt": "digits", "nb": token, "point": "17"})
    assert not at.link_notices, at.link_notices
    rec = ex.read(tmp_path, token)
    assert (rec["checkpoint"], rec["split"], rec["indices"], rec["point"]) == ("digits", "test", [17], 17)
    switch(at, "pages/generate.py")
    at.run()
    assert url(at).get("nb") == token, "the link keeps the session on every page"

    at = open_link("map", {"ckpt": "digits", "nb": stranger, "point": "17"})
    assert len(at.link_notices) == 1 and f"(nb='{stranger}')" in at.link_notices[0], at.link_notices
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{token}.json"], "a file was created"
    assert ex.read(tmp_path, token)["indices"] == [17]


# -- the notebook, run by nbclient, against the app in Chromium ---------------------------------------
CHART = "() => [...document.querySelectorAll('.js-plotly-plot')].find(g => (g._fullData || []).length > 3)"
#: The data points plotly.js holds selected after a box (their explore-set indices, from customdata).
SELECTED_JS = f"""() => {{
  const out = [];
  for (const t of ({CHART})()._fullData) {{
    if (!t.customdata || !t.selectedpoints) continue;
    for (const k of t.selectedpoints) if (t.customdata[k][0] === 0) out.push(t.customdata[k][1]);
  }}
  return out.sort((a, b) => a - b);
}}"""


#: Data points of the Map to click, best first: on screen, far from the other points and from the invisible
#: grid of spots (a click on empty space decodes the spot under it).
POINTS_JS = f"""() => {{
  const gd = ({CHART})(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  const px = (x, y) => [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)];
  const data = [], grid = [];
  for (const t of gd._fullData) {{
    if (!t.customdata || !t.x) continue;
    for (let i = 0; i < t.x.length; i++) (t.customdata[i][0] === 0 ? data : grid).push(px(t.x[i], t.y[i]));
  }}
  const inside = p => p[0] > r.left + xa._offset + 15 && p[0] < r.left + xa._offset + xa._length - 15 &&
                      p[1] > r.top + ya._offset + 15 && p[1] < Math.min(r.top + ya._offset + ya._length, innerHeight) - 15;
  const gap = (p, qs) => Math.min(...qs.filter(q => q !== p).map(q => Math.hypot(p[0] - q[0], p[1] - q[1])));
  const scored = data.filter(inside).map(p => [Math.min(gap(p, grid), gap(p, data) / 2), p]);
  return {{n: data.length, points: scored.sort((a, b) => b[0] - a[0]).slice(0, 12).map(s => s[1])}};
}}"""
#: The point plotly.js would pick under the mouse now: [kind, index] from its customdata (kind 0: an image).
HOVERED_JS = f"""() => {{
  const gd = ({CHART})(), h = (gd._hoverdata || [])[0];
  return h ? gd._fullData[h.curveNumber].customdata[h.pointNumber] : null;
}}"""


def _cell(nb, source: str) -> int:
    from nbformat.v4 import new_code_cell

    nb.cells.append(new_code_cell(source))
    return len(nb.cells) - 1


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def _run(client, nb, source: str):
    """Run ``source`` as the notebook's next cell in the same kernel; its outputs (errors fail the test)."""
    k = _cell(nb, source)
    client.execute_cell(nb.cells[k], k)
    return nb.cells[k]


def _frame(pg, cell_html: str):
    """A page holding the cell's HTML output as Jupyter shows it; the explorer's frame, loaded."""
    from browser_helpers import wait_app

    pg.set_content(f"<!doctype html><body style='margin: 8px'>{cell_html}</body>")
    element = pg.wait_for_selector("iframe")
    frame = element.content_frame()
    wait_app(frame)
    box = element.bounding_box()
    frame.offset = (box["x"], box["y"])
    return frame


def _click_point(pg, frame) -> int:
    """Click a point of the Map, one that plotly.js picks under the mouse (a spot of the grid may lie
    nearer to it, by plotly's measure, than the point itself); the index the panel shows, which must
    be that point's."""
    from browser_helpers import map_info, wait_app

    map_info(frame)  # the chart drawn and settled
    info = frame.evaluate(POINTS_JS)
    assert info["n"] == 360, info
    for x, y in info["points"]:
        frame.evaluate(f"() => {{ delete ({CHART})()._hoverdata; }}")
        pg.mouse.move(x + frame.offset[0], y + frame.offset[1])
        hovered = frame.wait_for_function(HOVERED_JS, timeout=20_000).json_value()
        if hovered[0] == 0:
            break
    else:
        raise AssertionError(f"plotly.js picks no data point under any of {info['points']}")
    pg.mouse.click(x + frame.offset[0], y + frame.offset[1])
    frame.get_by_role("button", name="Steer this point").wait_for(timeout=120_000)
    wait_app(frame)
    heads = frame.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] h3')].map(h => h.innerText)")
    index = next(int(m.group(1)) for h in heads if (m := re.match(r"#(\d+) · ", h)))
    assert index == hovered[1], (heads, hovered)
    assert f"point={index}" in frame.evaluate("() => location.search"), "the link names the same point"
    return index


def _box(pg, frame) -> list[int]:
    """Draw a box over the middle of the Map; the indices plotly.js selected (the panel counts as many)."""
    from browser_helpers import wait_app
    from test_classroom import PLOT_BOX_JS

    frame.locator('.modebar-btn[data-title="Box Select"]').first.click()
    x0, y0, w, h = frame.evaluate(PLOT_BOX_JS)
    ox, oy = frame.offset
    start, end = (ox + x0 + 0.25 * w, oy + y0 + 0.25 * h), (ox + x0 + 0.75 * w, oy + y0 + 0.6 * h)
    pg.mouse.move(*start)
    pg.mouse.down()
    for k in range(1, 13):
        pg.mouse.move(start[0] + (end[0] - start[0]) * k / 12, start[1] + (end[1] - start[1]) * k / 12)
    pg.mouse.up()
    frame.get_by_text("images selected").first.wait_for(timeout=120_000)
    wait_app(frame)
    selected = frame.evaluate(SELECTED_JS)
    heads = frame.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] h3')].map(h => h.innerText)")
    assert f"{len(selected):,} images selected" in heads, (heads, len(selected))
    assert len(selected) > 1, selected
    return selected


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


@pytest.mark.slow
def test_a_notebook_shows_the_explorer_and_gets_the_maps_selection_back(browser, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from browser_helpers import ARTIFACTS, new_tab
    from pagecheck import assert_page_ok

    # the kernel, and the server it starts, cache in-memory models and encodings here (not in cache/)
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    nb = nbformat.v4.new_notebook()
    # "python3": the kernelspec in this venv, whose argv "python" jupyter_client runs as sys.executable
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(ROOT)}})  # the kernel runs in the checkout
    ctx = browser.new_context(viewport={"width": 1280, "height": 950})
    pg = new_tab(ctx)
    try:
        with client.setup_kernel():
            first = _run(client, nb, 'import sys, time\nimport vae\nt0 = time.perf_counter()\n'
                                     'session = vae.explore("checkpoints/digits")\n'
                                     'print(sys.executable, session.url, f"{time.perf_counter() - t0:.2f}")\n'
                                     'session')
            executable, url, seconds = _text(first).split()
            assert executable == sys.executable, "the kernel runs another Python than the project's"
            shown = [o for o in first.outputs if o.get("output_type") == "execute_result"]
            cell_html = shown[0]["data"]["text/html"]
            assert f'<iframe src="{html.escape(url, quote=True)}"' in cell_html, cell_html
            assert "nb=" in url and "embed=true" in url and "ckpt=digits" in url, url
            server = url.split("/?")[0]

            t0 = time.perf_counter()
            frame = _frame(pg, cell_html)
            print(f"explore(): {seconds} s to a server that answers; the inline Map drawn "
                  f"{time.perf_counter() - t0:.1f} s later")
            # the sidebar starts folded inside the iframe: the map gets the notebook's width
            assert frame.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
            clicked = _click_point(pg, frame)
            got = _text(_run(client, nb, "import json\n"
                                         "print(json.dumps([session.wait_for_selection(timeout=60), session.point]))"))
            assert json.loads(got) == [[clicked], clicked]

            boxed = _box(pg, frame)
            assert_page_ok(frame, "the Map in the notebook's iframe")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(ARTIFACTS / "notebook-map-box.png"))
            got = _text(_run(client, nb, "print(json.dumps([session.selection, session.point]))"))
            assert json.loads(got) == [boxed, None]

            # an in-memory model (ours, as a notebook holds it) in a second session of the same server
            second = _run(client, nb, 'model = vae.load_checkpoint("checkpoints/digits").model\n'
                                      'other = vae.explore(model, dataset="digits")\n'
                                      'print(other.checkpoint, other.url)\nother')
            name, other_url = _text(second).split()
            assert other_url.startswith(server + "/?") and f"ckpt={name}" in other_url, (server, other_url)
            other_html = next(o for o in second.outputs if o.get("output_type") == "execute_result")["data"]["text/html"]
            frame = _frame(pg, other_html)
            picker = frame.locator('[data-testid="stSidebar"] input[aria-label="Checkpoint"]')
            assert picker.input_value() == name, "the server's picker shows the model the notebook added"
            picked = _click_point(pg, frame)
            got = _text(_run(client, nb, "print(json.dumps([other.selection, session.selection]))"))
            assert json.loads(got) == [[picked], boxed], "one session's page changed another's selection"

            got = _text(_run(client, nb, "other.close()\nprint(other.closed, session.closed)"))
            assert got.split() == ["True", "False"] and _answers(server), "closing one session kept the server"
        # the kernel has shut down: its atexit handler stopped the server
        deadline = time.monotonic() + 30
        while _answers(server) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _answers(server), f"{server} still answers after the kernel exited"
    finally:
        ctx.close()
