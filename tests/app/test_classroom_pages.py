"""Issue #16's small defects, page by page, with streamlit's AppTest (the browser's side: test_classroom.py,
the layout: test_layout.py, the link: test_link.py).

- Icons are Material icons on every page, never an emoji (headless and many Linux browsers lack them).
- The Map's "legend entries toggle classes" caption only when colouring by class.
- Interpolate's small map has a legend of the classes.
- The Train page: β = 0 is a plain autoencoder; the digits set as 1,437 train / 360 test of 1,797.
- Your image: likelihood is a weak test for unusual inputs.
- How it works: one sign convention, stated once.
"""

from __future__ import annotations

import json
import re

import pytest
from app_helpers import ROOT, need, open_link

from pages._nav import NAMES

#: characters drawn from an emoji font by default (Unicode's Emoji_Presentation): the pictographs, the
#: BMP's emoji-style symbols (⌛ ✅ ❌ ⭐ …) and variation selector 16; text symbols such as ★ are fine
EMOJI = re.compile("[\U0001F000-\U0001FAFF\uFE0F\u231A\u231B\u23E9-\u23EC\u23F0\u23F3\u25FD\u25FE"
                   "\u2614\u2615\u2648-\u2653\u267F\u2693\u26A1\u26AA\u26AB\u26BD\u26BE\u26C4\u26C5"
                   "\u26CE\u26D4\u26EA\u26F2-\u26F5\u26FA\u26FD\u2705\u270A\u270B\u2728\u274C\u274E"
                   "\u2753-\u2755\u2757\u2795-\u2797\u27B0\u27BF\u2B1B\u2B1C\u2B50\u2B55]")


def buttons(at) -> list:
    return [*at.button, *at.get("download_button")]


@pytest.mark.parametrize("page", NAMES)
def test_buttons_use_material_icons_never_emoji(page):
    params = {"ckpt": "digits"}
    if page == "map":
        params["point"] = "5"  # the point panel: Steer this point, Interpolate from here
    at = open_link(page, params)
    found = []
    for b in buttons(at):
        icon, label = b.proto.icon, b.proto.label
        if (icon and not icon.startswith(":material/")) or EMOJI.search(label + icon):
            found.append((label, icon))
    for el in [*at.markdown, *at.caption, *at.info, *at.warning, *at.subheader, *at.header, *at.title]:
        if EMOJI.search(el.value):
            found.append((el.value[:60], "text"))
    assert not found, found
    if page == "map":
        icons = {b.proto.label: b.proto.icon for b in at.button}
        assert icons["Interpolate from here"] == ":material/timeline:", icons


def test_the_class_legend_caption_only_when_colouring_by_class():
    at = open_link("map", {"ckpt": "digits", "method": "pca", "color": "class"})
    assert any("legend entries toggle classes" in c.value for c in at.caption)
    at = open_link("map", {"ckpt": "digits", "method": "pca", "color": "kl"})
    captions = [c.value for c in at.caption]
    assert not any("legend" in c for c in captions), captions
    assert any("points" in c and "drag to pan" in c for c in captions), captions


def test_interpolate_small_map_has_a_legend_of_the_classes():
    at = open_link("interpolate", {"ckpt": "digits", "tab": "path", "a": "3", "b": "40"})
    names = [str(n) for n in _class_names("digits")]
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    legends = [[t.get("name") for t in f["data"] if t.get("showlegend", True) and t.get("name")] for f in figs]
    assert any(set(names) <= set(entries) for entries in legends), legends


def _class_names(name: str) -> list[str]:
    from vae.checkpoint import load_checkpoint

    return list(load_checkpoint(ROOT / "checkpoints" / name).class_names)


def test_train_page_says_beta_zero_is_an_autoencoder_and_the_digits_split():
    at = open_link("train", {"ckpt": "digits"})
    beta = at.number_input(key="train_beta")
    assert "β = 0 is a plain autoencoder" in beta.proto.help, beta.proto.help
    text = " ".join(m.value for m in [*at.markdown, *at.caption])
    assert "1,797 images, 1,437 train and 360 test" in text
    # wherever a size is given, the split goes with it (the rehearsal read 1,437 here and 1,797 there)
    for m in re.finditer("1,797", text):
        assert re.match(r"1,797 images[:,] 1,437 train,? (and )?360 test", text[m.start():]), text[m.start():][:60]
    for m in re.finditer("1,437", text):
        assert text[m.end():].startswith(" train"), text[m.start() - 30:][:60]


def test_your_image_says_likelihood_is_a_weak_test():
    at = open_link("your_image", {"ckpt": "digits", "sample": "drawing", "drawing": "trousers"})
    assert any("likelihood is a weak test for inputs unlike the" in c.value for c in at.caption), \
        [c.value for c in at.caption]


def test_how_it_works_states_the_sign_convention_once():
    need("fashion-mnist")
    at = open_link("how_it_works", {"ckpt": "fashion-mnist", "image": "7"})
    signs = [i.value for i in at.info if "Signs" in i.value]
    assert len(signs) == 1 and "lower is better" in signs[0], signs
    # the point of view of every page: -ELBO, never a negative "ELBO" number
    shown = " ".join(m.value for m in [*at.markdown, *at.caption])
    assert not re.search(r"\bELBO\s*[=:]?\s*−\d", shown), "an ELBO shown as a negative number"
