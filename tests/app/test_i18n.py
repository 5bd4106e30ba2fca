"""The explorer in Chinese (?lang=zh): the catalog, the switch, and what each page shows.

- The catalog: every text the source marks (``_``, ``ngettext``, ``N_``; extracted here with Babel
  exactly as ``make i18n`` does) is in locale/zh/...messages.po, translated, not fuzzy, with the same
  placeholders; the committed .pot and .mo agree with the source and the .po.
- The catalog reads like the lecture: the field's standard terms of locale/zh/glossary.tsv wherever a
  text uses the English term, none of the variants it rules out; and the Markdown of a translation
  renders as its source's does (no ``**`` left on screen).
- The pages, through AppTest with ``?lang=zh``: no exception, and no English prose in any text the
  page shows (titles, captions, labels, help texts, options, captions of images, tables, chart
  titles, legends and hover texts, metrics' deltas), outside a short allow-list of names, units and
  symbols; every metric's arrow follows the sign of its delta's number.
- The language survives page switches and slider moves; English stays the default.
"""

from __future__ import annotations

import gettext
import io
import json
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from app_helpers import app_test, switch
from pagecheck import assert_app_ok

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
PO = LOCALE / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest
babel_pofile = pytest.importorskip("babel.messages.pofile")

#: Every page, opened with ?lang=zh: (file, checkpoint to open it with[, session state]).
ZH_PAGES = [
    ("pages/map.py", "fashion-mnist"),
    ("pages/map.py", "fashion-mnist-2d"),
    ("pages/map.py", "digits", {"map_per_image": 5}),
    ("pages/map.py", "fashion-mnist", {"selected_index": 9, "selected_for": "fashion-mnist", "map_search": "靴",
                                       "map_nn_metric": "cosine"}),  # neighbours and search
    ("pages/sliders.py", "fashion-mnist"),
    ("pages/sliders.py", "fashion-mnist", {"sl_axes": "sefa"}),  # SeFa's sliders and every slider's name
    ("pages/sliders.py", "fashion-mnist", {"sl_dir": "class:7:9"}),  # a direction from the Directions page
    ("pages/directions.py", "fashion-mnist"),
    ("pages/directions.py", "fashion-mnist", {"dir_source": "class", "dir_from": 7}),  # class directions' names
    ("pages/directions.py", "fashion-mnist", {"dir_tab": "analogy"}),
    ("pages/interpolate.py", "fashion-mnist"),
    ("pages/interpolate.py", "fashion-mnist", {"interp_tab": "维度遍历", "interp_trav_start": "image"}),
    ("pages/interpolate.py", "fashion-mnist", {"interp_tab": "属性向量"}),
    ("pages/train.py", "fashion-mnist"),
    ("pages/generate.py", "fashion-mnist"),
    ("pages/reconstructions.py", "fashion-mnist"),
    ("pages/your_image.py", "fashion-mnist"),
    ("pages/how_it_works.py", "fashion-mnist"),
    ("pages/how_it_works.py", "digits"),
    ("pages/training_step.py", "fashion-mnist"),
    ("pages/ae_vs_vae.py", "fashion-mnist"),
    ("pages/spaces.py", "fashion-mnist"),
    ("pages/spaces.py", "fashion-mnist", {"sp_sel": "42"}),  # one image: its neighbours in both spaces
    ("pages/spaces.py", "fashion-mnist", {"sp_sel": "1,2,3,4", "sp_b": "fashion-mnist-ae"}),  # a selection
    ("pages/spaces.py", "fashion-mnist", {"sp_b": "digits"}),  # a pair that cannot be compared
    ("pages/vae_vs_gan.py", "fashion-mnist"),
    ("pages/uses.py", "fashion-mnist"),
    ("pages/weaknesses.py", "fashion-mnist"),
    # the guided tour: its page (a step under way), and steps' bars on their pages in presenter mode
    ("pages/tour.py", "fashion-mnist", {"tour_step": 3}),
    ("pages/map.py", "fashion-mnist", {"tour_step": 2, "present": True, "selected_index": 9,
                                       "selected_for": "fashion-mnist"}),
    ("pages/interpolate.py", "fashion-mnist", {"tour_step": 8, "present": True}),
    ("pages/how_it_works.py", "fashion-mnist", {"tour_step": 10, "present": True}),
    ("pages/train.py", "fashion-mnist", {"tour_step": 21, "present": True, "train_preset": "classroom"}),
]

#: Latin-letter words a Chinese page may show: names, units, formula symbols, file formats.
ALLOWED = {
    "elbo", "kl", "vae", "vaes", "gan", "umap", "pca", "sne", "mse", "iwae", "nats", "nat", "csv", "png",
    "jpeg", "gif", "bmp", "webp", "cuda", "gpu", "cpu", "adam", "burda", "al", "fashion", "mnist", "kmnist",
    "log", "exp", "var", "std", "max", "min", "svg", "onnx", "relu", "sigmoid", "softmax", "tanh", "conv",
    "dcgan", "fid", "knn", "nn", "auroc", "mu", "sigma", "eps", "epsilon", "extra", "customdata", "text",
    "marker", "color", "mathrm", "mathbb", "mathcal", "big", "mid", "underbrace", "tfrac", "sum", "left",
    "right", "odot", "varepsilon", "qquad", "quad", "le", "sim", "digits", "meta", "json", "mlp",
    "english", "language",  # the switch names each language in its own words
    "real", "fake",  # D(real): functions in formulas
    "fréchet", "inception", "radford",  # names of a distance, a network, an author
    "van", "den", "camp", "oord", "ballé", "optimus", "pixelcnn", "pixelcnns", "arxiv", "scikit", "learn", "bits",
    "back", "streamlit", "slerp", "sefa",  # authors, models, libraries and methods, named as in the literature
    "shift", "ctrl",  # keys, as their keycaps name them
}
WORD = re.compile(r"[A-Za-zÀ-ÿ]{3,}")


def _fields(text: str) -> set[str]:
    """The {placeholders} of a message (names and format specs)."""
    try:
        return {f"{name}:{spec}" for _, name, spec, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as e:
        return {f"unparsable: {e}"}


def _catalog():
    with PO.open("rb") as f:
        return babel_pofile.read_po(f)


def _extract(tmp_path: Path) -> set:
    """The msgids of the source now, extracted as `make i18n` does."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_",
                    "-o", str(pot), "--no-location", "--omit-header", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        return {m.id for m in babel_pofile.read_po(f) if m.id}


def test_every_text_in_the_source_is_translated(tmp_path):
    source = _extract(tmp_path)
    cat = _catalog()
    missing = [m for m in source if m not in cat]
    assert not missing, f"{len(missing)} text(s) not in {PO.relative_to(ROOT)}; run `make i18n`: {missing[:5]}"
    with (LOCALE / "messages.pot").open("rb") as f:
        committed = {m.id for m in babel_pofile.read_po(f) if m.id}
    assert committed == source, f"locale/messages.pot is stale; run `make i18n`: {sorted(committed ^ source, key=str)[:5]}"
    untranslated, fuzzy, wrong = [], [], []
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if not all(strings):
            untranslated.append(ids[0])
        if m.fuzzy:
            fuzzy.append(ids[0])
        for s in strings:
            if s and _fields(s) != _fields(ids[0]):
                wrong.append((ids[0], s))
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:5]}"
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong[:3]}"
    assert "nplurals=1" in (cat.plural_forms or ""), cat.plural_forms


def test_the_compiled_catalog_matches_the_po():
    from babel.messages.mofile import write_mo

    buf = io.BytesIO()
    write_mo(buf, _catalog())
    buf.seek(0)
    fresh = gettext.GNUTranslations(buf)
    with MO.open("rb") as f:
        committed = gettext.GNUTranslations(f)
    assert committed._catalog == fresh._catalog, "locale/zh/LC_MESSAGES/messages.mo is stale; run `make i18n`"


GLOSSARY = LOCALE / "zh" / "glossary.tsv"


def glossary() -> list[tuple[str, str, list[str]]]:
    """(English term, the lecture's Chinese term, variants not to use) of locale/zh/glossary.tsv."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            en, zh, *rest = (c.strip() for c in line.split("\t"))
            rows.append((en, zh, [v.strip() for v in rest[0].split(",") if v.strip()] if rest else []))
    return rows


def _term(en: str) -> re.Pattern:
    """An English term in a text: whole words, any case, a space or a hyphen between words, a plural; not
    a link's syntax (``prior:SEED``)."""
    words = r"[\s-]".join(re.escape(w) for w in en.split())
    return re.compile(rf"(?<![\w-]){words}(?:e?s)?(?![\w-]|:\w)", re.I)


def _pairs() -> list[tuple[str, str]]:
    out = []
    for m in _catalog():
        if m.id:
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            out += [(ids[0], s) for s in (m.string if isinstance(m.string, tuple) else (m.string,)) if s]
    return out


def test_the_catalog_uses_the_glossarys_terms():
    """A text that names a term in English names it with the glossary's Chinese term; no variant appears."""
    pairs, rows = _pairs(), glossary()
    assert len(rows) >= 10, rows
    missing, variants, unused = [], [], []
    for en, zh, avoid in rows:
        uses = [(i, s) for i, s in pairs if _term(en).search(i)]
        missing += [(en, zh, i[:70], s[:70]) for i, s in uses if zh not in s]
        variants += [(v, s[:80]) for v in avoid for _i, s in pairs if v in s]
        if not any(zh in s for _i, s in pairs):
            unused.append((en, zh))
    assert not missing, f"{len(missing)} translation(s) without the glossary's term:\n" + "\n".join(map(str, missing[:20]))
    assert not variants, f"{len(variants)} translation(s) with a variant the glossary rules out:\n" + "\n".join(
        map(str, variants[:20]))
    assert not unused, f"glossary terms no translation uses: {unused}"


def _markup_left(text: str) -> int:
    """How many Markdown marks (* and `) stay on screen when ``text`` is rendered as CommonMark."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(text)
    shown = re.sub(r"<code>.*?</code>", " ", html, flags=re.S)
    return len(re.findall(r"[*`]", re.sub(r"<[^>]+>", " ", shown)))


def test_translations_render_their_markdown():
    """The translation of a text in Markdown renders without its marks on screen (CJK punctuation before a
    closing ``**`` stops it from closing: ``**标题：**正文`` shows its asterisks)."""
    pytest.importorskip("markdown_it")
    bad = [(i[:60], s[:80]) for i, s in _pairs() if ("*" in s or "`" in s) and _markup_left(s) > _markup_left(i)]
    assert not bad, f"{len(bad)} translation(s) show Markdown marks: {bad[:5]}"


def test_translation_lookup_and_plural():
    from pages import _i18n

    zh = _i18n.translation("zh")
    assert zh.gettext("T-shirt/top") == "T恤/上衣"
    assert zh.gettext("3 · The reparameterisation trick") == "3 · 重参数化技巧"
    one = zh.ngettext("Loss after {n} step", "Loss after {n} steps", 1)
    two = zh.ngettext("Loss after {n} step", "Loss after {n} steps", 2)
    assert one == two == "{n} 步之后的损失"
    # outside a Streamlit run (a test importing a page's helpers): English
    assert _i18n._("Map") == "Map" and _i18n.current_language() == "en"


def test_library_texts_are_plain_strings_and_translate_from_their_template():
    from pages import _i18n
    from vae.i18n import Text

    what = Text("light background made dark")
    note = Text("inverted: {what}, like the training images", what=what)
    assert note == "inverted: light background made dark, like the training images"
    assert isinstance(note, str) and json.dumps(note) == json.dumps(str(note))
    assert _i18n.tr(note) == note  # English outside a run


def test_importing_vae_still_leaves_streamlit_out():
    code = "import sys, vae, vae.i18n, vae.explore.figures, vae.data.images; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- pages through AppTest ----------------------------------------------------------------------
def open_zh(page: str, ckpt: str, **state) -> AppTest:
    if not (ROOT / "checkpoints" / ckpt / "model.safetensors").is_file():
        pytest.skip(f"checkpoints/{ckpt} is not there")
    at = app_test(300)
    at.query_params["lang"] = "zh"
    at.session_state["ckpt"] = ckpt
    at.session_state["map_method"] = "pca"
    for k, v in state.items():
        at.session_state[k] = v
    switch(at, page).run()
    assert_app_ok(at, f"{page}, lang=zh")
    return at


_TEXT_FIELDS = {"body", "label", "help", "options", "caption", "placeholder", "text", "title", "default_value",
                "delta", "delta_description"}


def _proto_texts(msg) -> list[str]:
    """Every text a user can read in an element's protobuf (recursively); charts and tables parsed."""
    out = []
    for field, value in msg.ListFields():
        name = field.name
        values = [value]
        if not isinstance(value, (str, bytes, int, float)) and not hasattr(value, "ListFields"):
            values = list(value)  # a repeated field
        if field.message_type is not None:
            for v in values:
                out += _proto_texts(v)
        elif name == "spec" and isinstance(value, str) and value.lstrip().startswith("{"):
            out += _figure_texts(json.loads(value))
        elif name == "spec" and isinstance(value, str):  # graphviz DOT: the labels
            out += re.findall(r'label="([^"]*)"', value)
        elif name in _TEXT_FIELDS:
            out += [v for v in values if isinstance(v, str)]
    return out


def _vega_texts(spec) -> list[str]:
    """The titles anywhere in a Vega-Lite spec (an Altair chart's): the chart's, its axes' and legends'."""
    out = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            out += [v.get("text") if isinstance(v, dict) else v] if k == "title" else _vega_texts(v)
    elif isinstance(spec, list):
        out = [t for v in spec for t in _vega_texts(v)]
    return [t for t in out if isinstance(t, str)]


def _figure_texts(fig: dict) -> list[str]:
    if str(fig.get("$schema", "")).startswith("https://vega.github.io/schema/vega-lite/"):
        return _vega_texts(fig)
    out = []
    layout = fig.get("layout", {})

    def title(obj):
        t = (obj or {}).get("title")
        return t.get("text") if isinstance(t, dict) else t

    out.append(title(layout))
    for k, v in layout.items():
        if re.fullmatch(r"[xy]axis\d*", k):
            out.append(title(v))
    out += [a.get("text") for a in layout.get("annotations", [])]
    for tr in fig.get("data", []):
        out += [tr.get("name"), tr.get("hovertemplate")]
        out.append(title((tr.get("marker") or {}).get("colorbar")))
    return [t for t in out if isinstance(t, str)]


def _dataframe_texts(at) -> list[str]:
    out = []
    for frame in [d.value for d in at.dataframe] + [t.value for t in at.table]:
        out += [str(c) for c in frame.columns] + [str(i) for i in frame.index]
        out += [v for col in frame.columns for v in frame[col] if isinstance(v, str)]
    return out


def english_words(texts: list[str], names: set[str]) -> list[tuple[str, str]]:
    """(word, the text it is in) for every English-looking word outside ALLOWED and ``names``."""
    found = []
    for text in texts:
        if text.count("arXiv:") >= 3:  # a list of references: titles and authors as published
            continue
        if re.fullmatch(r"[a-z0-9]+(?:[-_.][a-z0-9]+)+", text.strip()):  # a slug: a (suggested) checkpoint name
            continue
        clean = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)  # a style-only st.html shows nothing
        clean = re.sub(r"`[^`]*`", " ", clean)  # commands and paths in backticks stay as they are
        clean = re.sub(r"\?\w+=\w+", " ", clean)  # a link's parameter: ?present=1
        clean = re.sub(r"[\w.-]*/[\w./-]*", " ", clean)  # folders and files (checkpoints/, models/x)
        clean = re.sub(r"\\[A-Za-z]+", " ", clean)  # LaTeX commands
        clean = re.sub(r"%\{[^}]*\}|<[^>]*>|&\w+;", " ", clean)  # Plotly placeholders, tags and entities
        clean = re.sub(r"\b[A-Z][\w-]*(?= 等| 与 )", " ", clean)  # authors: "Bowman 等", "Hinton 与 van Camp"
        clean = re.sub(r"\b[A-Z][A-Z0-9-]+\b", " ", clean)  # acronyms and model names: LSTM, GPT-2, VQ-VAE
        for w in WORD.findall(clean):
            if w.lower() not in ALLOWED and w.lower() not in names:
                found.append((w, text[:120]))
    return found


def visible_texts(at) -> list[str]:
    texts = []
    stack = [at._tree]
    while stack:
        node = stack.pop()
        proto = getattr(node, "proto", None)
        if proto is not None:
            texts += _proto_texts(proto)
        children = getattr(node, "children", None)
        if children:
            stack += list(children.values())
    return texts + _dataframe_texts(at)


def _names() -> set[str]:
    """Checkpoint and data-set names (shown as they are), split into words."""
    words = set()
    for p in [*(ROOT / "checkpoints").iterdir(), *(ROOT / "models").iterdir()]:
        words |= {w.lower() for w in re.findall(r"[A-Za-z]+", p.name)}
    return words


@pytest.mark.parametrize("spec", ZH_PAGES, ids=lambda s: "-".join(str(p) for p in s[:2]) + ("+" if len(s) > 2 else ""))
def test_zh_page_runs_and_shows_no_english(spec):
    page, ckpt, state = (*spec, {})[:3]
    at = open_zh(page, ckpt, **state)
    assert at.session_state["lang"] == "zh"
    texts = visible_texts(at)
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts), "no Chinese text at all"
    found = english_words(texts, _names())
    assert not found, f"{page} ({ckpt}) shows {len(found)} English word(s) with ?lang=zh:\n" + "\n".join(
        f"  {w!r} in {t!r}" for w, t in found[:40])
    wrong = wrong_arrows(at)
    assert not wrong, f"{page} ({ckpt}): metrics whose arrow does not follow their delta: {wrong}"


def wrong_arrows(at) -> list[tuple[str, str, str]]:
    """(label, delta, direction) of every metric whose arrow does not follow the sign of its delta's
    number (Streamlit reads a string delta's sign from its first character)."""
    from streamlit.proto.Metric_pb2 import Metric

    out = []
    for m in at.metric:
        p = m.proto
        number = re.search(r"[-+−]?\d[\d,]*(?:\.\d+)?", p.delta)
        if not number:
            continue
        v = float(number.group().replace("−", "-").replace(",", ""))
        want = Metric.MetricDirection.NONE if v == 0 else (
            Metric.MetricDirection.DOWN if v < 0 else Metric.MetricDirection.UP)
        if p.direction != want:
            out.append((p.label, p.delta, Metric.MetricDirection.Name(p.direction)))
    return out


def test_language_survives_page_switches_and_slider_moves():
    at = open_zh("pages/generate.py", "digits")
    assert at.title[0].value == "生成" and at.query_params["lang"] in ("zh", ["zh"])
    at.slider(key="gen_temp").set_value(1.5).run()
    assert_app_ok(at)
    assert at.title[0].value == "生成" and at.session_state["lang"] == "zh"
    switch(at, "pages/how_it_works.py").run()
    assert_app_ok(at)
    assert at.title[0].value == "原理"
    assert at.sidebar.radio(key="lang").value == "zh"
    at.sidebar.radio(key="lang").set_value("en").run()  # the switch: back to English, URL follows
    assert at.title[0].value == "How it works"
    assert at.query_params["lang"] in ("en", ["en"])


def test_a_link_notice_is_in_the_links_language():
    """A malformed value of a Chinese link: its notice in Chinese (reason, parameter and fallback)."""
    if not (ROOT / "checkpoints" / "digits" / "model.safetensors").is_file():
        pytest.skip("checkpoints/digits is not there")
    at = app_test(300)
    for k, v in {"lang": "zh", "ckpt": "digits", "steps": "500", "split": "validation"}.items():
        at.query_params[k] = v
    switch(at, "pages/interpolate.py").run()
    assert_app_ok(at)
    notes = [w.value for w in at.warning if "已忽略链接中的" in w.value]
    assert len(notes) == 2, [w.value for w in at.warning]
    assert any("steps='500'" in n and "步数" in n and "3 到 20" in n for n in notes), notes
    assert any("split='validation'" in n and "浏览数据集" in n for n in notes), notes
    found = english_words(notes, _names() | {"steps", "split", "validation", "test", "train", "all"})  # link values
    assert not found, found


def test_the_tours_links_keep_the_language():
    """Starting the tour from the Chinese Tour page opens step 1 in Chinese, with ?lang=zh in its link."""
    at = open_zh("pages/tour.py", "fashion-mnist")
    assert at.title[0].value == "导览"
    at.button(key="tour_start").click().run()
    assert_app_ok(at)
    assert at.session_state["tour_step"] == 1 and at.query_params["lang"] in ("zh", ["zh"])
    assert at.title[0].value == "潜在空间地图", at.title[0].value
    bar = " ".join(m.value for m in at.markdown)
    assert "导览 · 第 1 / 21 步" in bar, bar[:300]


def test_english_is_the_default_and_unknown_languages_fall_back():
    if not (ROOT / "checkpoints" / "digits" / "model.safetensors").is_file():
        pytest.skip("checkpoints/digits is not there")
    at = app_test(300)
    at.session_state["ckpt"] = "digits"
    at.query_params["lang"] = "xx"
    switch(at, "pages/generate.py").run()
    assert_app_ok(at)
    assert at.title[0].value == "Generate" and at.session_state["lang"] == "en"


@pytest.mark.parametrize("locale,expected", [("zh-CN", "zh"), ("zh-TW", "zh"), ("en-GB", "en"),
                                             ("fr-FR", "en"), (None, None)])
def test_browser_language_picks_the_default(monkeypatch, locale, expected):
    from pages import _i18n

    class Context:
        pass

    ctx = Context()
    ctx.locale = locale
    monkeypatch.setattr(_i18n.st, "context", ctx)
    assert _i18n.browser_language() == expected
