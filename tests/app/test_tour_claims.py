"""The guided tour says only what the shipped models show: every claim that a step's talking points make
about what the class will see (pages/_tour_steps.py), measured on the models in checkpoints/ and models/
(vae.lessons.claims). A failing claim quotes what was measured, so that the talking point can be made true.
"""

from __future__ import annotations

import pytest

from pages._tour_steps import STEPS
from vae.lessons.claims import Shipped, SliderReads

CLAIMS = [(k, claim) for k, step in enumerate(STEPS, start=1) for claim in step.claims]


def drawn(shape: str):
    """A drawing of the Your image page, converted as that page converts it ("auto" inversion against the
    model's own training images): the model's input (C, H, W)."""
    from pages import your_image

    def picture(ck):
        prep, error = your_image.convert(your_image.drawing(shape), tuple(ck.config.image_shape),
                                         your_image.INVERT["auto"], ck.data_background(ck.load_data("test").images))
        assert error is None, error
        return prep.tensor

    return picture


@pytest.fixture(scope="module")
def shipped() -> Shipped:
    return Shipped(pictures={"trousers": drawn("trousers")})


@pytest.mark.parametrize("k, claim", CLAIMS, ids=[f"step{k}-{type(c).__name__}" for k, c in CLAIMS])
def test_every_claim_of_the_tour_holds_on_the_shipped_models(shipped, k, claim):
    seen = claim.check(shipped)
    assert seen.holds, f"step {k} ({STEPS[k - 1].title}): {claim} does not hold. Measured: {seen.saw}"


def test_the_sliders_claim_reads_what_the_classifier_reads(shipped):
    """The claim that replaced "the sneaker becomes a boot, then a sandal": no slider of the latent
    sliders reads a boot from the sneaker (the classifier's verdict along z0, z8 and z12, the three top
    sliders), so that claim, made a SliderReads, fails; and it fails for a slider that is not on top."""
    boot_then_sandal = [SliderReads("fashion-mnist", 9, "latent", d, to, ("Sneaker", "Ankle boot", "Sandal"))
                        for d in (0, 8, 12) for to in (-4.0, 4.0)]
    assert not any(c.check(shipped).holds for c in boot_then_sandal), [c.check(shipped).saw for c in boot_then_sandal]
    deep = SliderReads("fashion-mnist", 9, "latent", 0, 4.0, ("Sneaker", "Bag"), top=0)
    assert not deep.check(shipped).holds
