"""The guided tour's steps: a VAE lecture demo (15 to 20 minutes) as plain data.

A step names a page (its name in pages/_nav.py), the page's state as link parameters (pages/_link.py:
the same parsers a shared link goes through; ``ckpt`` too, else the default checkpoint), two or
three talking points (title and points marked ``N_``, translated where shown), its focus and its
claims. The focus is the figure the talking points are about, which the step scrolls into view when it
opens (CSS selectors, tried in turn: the key a page gave the element, ``.st-key-NAME``, or an element
inside it); tests/browser/test_classroom.py opens every step at 1024×768 and 1280×720 and checks that its
focus is whole in the window. The claims are what the talking points say the class will see, as checks
on the shipped models (vae.lessons.claims; tests/app/test_tour_claims.py runs them). pages/_tour.py walks
the steps. Adding a step is one more :class:`Step` in :data:`STEPS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pages._i18n import N_
from vae.lessons.claims import (
    SHOES,
    AutoencoderVsVae,
    BetaTradeOff,
    Blurrier,
    ChangesAlong,
    Claim,
    DirectionsMatter,
    GanSharper,
    Outsider,
    Overlap,
    PathReads,
    Regions,
    Repairs,
    SharedNeighbours,
    SliderReads,
    StrangersLikelier,
)


@dataclass(frozen=True)
class Step:
    """One stop of the tour."""

    title: str  # a few words, shown as "Step k of N: title" (marked N_, translated where shown)
    page: str  # the page's name (pages/_nav.py), e.g. "map"
    params: dict[str, str] = field(default_factory=dict)  # the page's link parameters (and ckpt)
    points: tuple[str, ...] = ()  # two or three talking points (marked N_, translated where shown)
    focus: tuple[str, ...] = ()  # CSS selectors of the figure, tried in turn: the first drawn one is it
    claims: tuple[Claim, ...] = ()  # what the talking points say the class will see, checked on the models

    def __post_init__(self) -> None:
        if not self.focus:
            raise ValueError(f"tour step {self.title!r} names no focus: the figure its talking points are about")


SNEAKER, BOOT = "9", "0"  # test-split images of fashion-mnist: a sneaker and an ankle boot
FM, BETA4, AE = "fashion-mnist", "fashion-mnist-beta4", "fashion-mnist-ae"  # shipped checkpoints
EMOJI, WHITE_HAIR = "emoji", "82"  # the colour model, and its test image 82: PERSON: WHITE HAIR: light skin tone
MAP = ('[class*="st-key-map_chart_"]', '[class*="st-key-map_canvas_"]')  # the Map's chart (Plotly, or a canvas)
LIVE_IMAGE = (".st-key-sl_live_view canvas.vae-live-image", ".st-key-sl_server_image")  # Sliders' decoded z

STEPS: list[Step] = [
    Step(N_("Ten thousand images, one dot each"), "map", {"method": "umap", "color": "class"}, (
        N_("Each dot is one test image, placed by its latent code μ: 16 numbers from the encoder, drawn in 2-D "
           "with UMAP."),
        N_("Nobody told the model the classes (the colours are for us): shoes, trousers and bags still form their "
           "own regions."),
    ), MAP, (Regions(FM, (SHOES, ("Trouser",), ("Bag",))),)),
    Step(N_("One image: what the model makes of it"), "map", {"method": "umap", "point": SNEAKER}, (
        N_("The original, and its reconstruction: the decoder's picture of the code μ. It is blurrier: the "
           "code keeps what tells images apart, not every stitch."),
        N_("−ELBO = reconstruction + KL, in nats, lower is better: what it costs to describe the image with "
           "the model (÷ ln 2 for bits)."),
        N_("Below them, the code itself: μ ± σ per dimension; the green band is ±1 under the prior."),
    ), (".st-key-map_point",), (Blurrier(FM, "reconstructions", image=int(SNEAKER)),)),
    Step(N_("Where the model struggles"), "map", {"method": "umap", "color": "recon"}, (
        N_("Coloured by reconstruction error: bright dots are the images the model finds hardest."),
        N_("Shirts, pullovers and coats overlap: the model mixes up what people mix up too."),
    ), MAP, (Overlap(FM, ("Shirt", "Pullover", "Coat"), apart=("Trouser", "Bag", "Sneaker")),)),
    Step(N_("The prior: where new codes come from"), "map", {"method": "umap", "prior": "300"}, (
        N_("Black crosses are 300 codes drawn from the prior N(0, I), placed among the data."),
        N_("Click empty space between clusters: the spot is decoded, and far from the data the page says it is "
           "extrapolating."),
    ), MAP),
    Step(N_("A 2-D model: the map is the space"), "map", {"ckpt": "fashion-mnist-2d", "method": "latent"}, (
        N_("This model has only two latent numbers, so the map is the latent space itself, with the decoded "
           "image of every spot behind the points."),
        N_("Switch the points off to see the decoded landscape: one garment morphs into the next."),
    ), MAP),
    Step(N_("Steer a code with sliders"), "sliders", {"image": SNEAKER, "axes": "latent"}, (
        N_("One slider per latent dimension, most informative (highest KL) first; the decoder runs in the "
           "browser as you drag."),
        N_("Drag the top two: z0 up turns the sneaker into a bag, z8 down into trousers. The small map shows "
           "where the code goes."),
    ), LIVE_IMAGE, (SliderReads(FM, int(SNEAKER), "latent", 0, 4.0, ("Sneaker", "Bag"), top=2),
                    SliderReads(FM, int(SNEAKER), "latent", 8, -4.0, ("Sneaker", "Trouser"), top=2))),
    Step(N_("Directions that matter"), "sliders", {"image": SNEAKER, "axes": "pca"}, (
        N_("The same code, now moved along the principal directions of the encoded data, most variance first: "
           "PC1 up turns the sneaker into an ankle boot, PC1 down into trousers."),
        N_("The first few directions change shape and size; the last ones hardly change anything."),
    ), LIVE_IMAGE, (SliderReads(FM, int(SNEAKER), "pca", 0, 4.0, ("Sneaker", "Ankle boot")),
                    SliderReads(FM, int(SNEAKER), "pca", 0, -4.0, ("Sneaker", "Trouser")),
                    DirectionsMatter(FM, int(SNEAKER)))),
    Step(N_("Walk from a sneaker to a boot"), "interpolate",
         {"tab": "path", "a": SNEAKER, "b": BOOT, "path": "lerp", "steps": "9"}, (
             N_("The codes on the straight line between two images, decoded: every frame is a plausible shoe."),
             N_("Scrub the slider under the strip: the decoder follows in the browser."),
         ), (".st-key-interp_strip",), (PathReads(FM, int(SNEAKER), int(BOOT), 9, SHOES),)),
    Step(N_("New images from the prior"), "generate", {"n": "36", "temp": "1", "seed": "0"}, (
        N_("Draw z ~ N(0, I) and decode it: no real image involved."),
        N_("Many samples are blurry: the prior puts mass where no image's code lies. Try temperature 0.5, then 2."),
    ), (".st-key-gen_grid",), (Blurrier(FM, "prior", n=36, seed=0, ratio=0.7),)),
    Step(N_("The ELBO of one image"), "how_it_works", {"image": SNEAKER}, (
        N_("ELBO = E[log p(x|z)] − KL(q(z|x) ‖ p(z)): how well the code reconstructs x, minus what the code "
           "costs."),
        N_("This app reports −ELBO, lower is better: reconstruction + KL, in nats."),
    ), (".st-key-how_elbo",)),
    Step(N_("What β = 4 changes"), "how_it_works", {"image": SNEAKER, "compare": BETA4}, (
        N_("β weights the KL term in the loss. The table: β = 4 buys a much smaller KL and pays with "
           "reconstruction."),
        N_("It switches dimensions off: 9 of its 16 stay in use, the others copy the prior and carry nothing "
           "(the flat bars)."),
    ), (".st-key-how_beta",), (BetaTradeOff(FM, BETA4, in_use=9),)),
    Step(N_("β = 1 and β = 4 side by side"), "reconstructions",
         {"compare": BETA4, "order": "worst_elbo", "n": "6"}, (
             N_("The same images through both models, hardest first."),
             N_("β = 4 is blurrier: fewer nats for the code, less detail in the picture."),
         ), (".st-key-rec_grid",), (Blurrier(BETA4, "reconstructions", than=FM, ratio=0.95),)),
    Step(N_("Two latent spaces, one set of images"), "spaces", {"a": FM, "b": BETA4}, (
        N_("The same 10,000 test images in both models: β = 1 on the left, β = 4 on the right, turned to line up "
           "with it. Box a group on one map: the same images light up on the other."),
        N_("Of each image's 10 nearest neighbours in latent space, the two models share only about 3: what counts "
           "as similar depends on the model, not only on the images."),
    ), (".st-key-sp_box_a", ".st-key-sp_box_b"), (SharedNeighbours(FM, BETA4, low=2.0, high=4.5),)),
    Step(N_("One training step, stage by stage"), "training_step", {"stage": "z"}, (
        N_("A real batch through the model by the functions that trained it: the encoder gives μ and σ, then "
           "z = μ + σ ⊙ ε. The noise ε is drawn outside the network, so the gradients reach μ and σ "
           "(the reparameterisation trick)."),
        N_("The page's own Next stage walks on: the decoder, the loss, the gradients, one Adam step, each beside "
           "the code of vae/ that computed it. Next in this bar goes on to the tour's next step."),
    ), (".st-key-step_stage_view",)),
    Step(N_("Autoencoder vs VAE"), "ae_vs_vae", {"seed": "0"}, (
        N_("The same network trained twice: β = 0 (a plain autoencoder, reconstruction only) and β = 1 (the "
           "ELBO)."),
        N_("The autoencoder reconstructs better, but its prior samples decode to murky smudges: nothing made its "
           "codes fill N(0, I). The VAE paid KL for exactly that."),
        N_("Further down, a straight path between two codes: the VAE's decoder draws the space between images."),
    ), (".st-key-avv_prior",), (AutoencoderVsVae(AE, FM, n=8), AutoencoderVsVae(AE, FM, n=10))),
    Step(N_("VAE vs GAN"), "vae_vs_gan", {"seed": "0"}, (
        N_("A GAN trained on the same images draws sharper samples; the page measures it, with a classifier "
           "as the judge."),
        N_("Only the VAE has an encoder and a likelihood: it reconstructs a test image and scores it. The GAN "
           "can only sample."),
    ), (".st-key-gan_samples",), (GanSharper(FM),)),
    Step(N_("What VAEs are used for"), "uses", {"noise": "0.4", "mask": "left"}, (
        N_("Denoising and inpainting with no extra training: encode, decode, keep the pixels that are known."),
        N_("Anomaly scores from −ELBO, and their caveat: simpler images of another set can look more likely "
           "than the model's own data."),
    ), (".st-key-uses_denoise",), (Repairs(FM, 0.4, "left half"), StrangersLikelier(FM, "handwritten digits"))),
    Step(N_("What VAEs do badly"), "weaknesses", {}, (
        N_("Blur: the decoder draws the mean of p(x|z), and an average of edges is a blur."),
        N_("Posterior collapse, holes between the prior and the encoded data, likelihood that misses "
           "strangers: each measured on the loaded model."),
    ), (".st-key-weak_blur",), (Blurrier(FM, "reconstructions", n=2000),)),
    Step(N_("An image the model never saw"), "your_image", {"sample": "drawing", "drawing": "trousers"}, (
        N_("A drawn outline of trousers, converted the way the training images were."),
        N_("Its −ELBO is lower than most test images': likelihood is a weak test for inputs unlike the data. Its "
           "nearest neighbours, a mix of classes, say more."),
    ), (".st-key-img_sees",), (Outsider(FM, "trousers"),)),
    Step(N_("Emoji in colour: what the strongest directions change"), "sliders",
         {"ckpt": EMOJI, "image": WHITE_HAIR, "axes": "pca"}, (
             N_("A VAE of 3,210 emoji in colour (32×32 RGB, 16 latent numbers), started from a white-haired face. "
                "Under each principal direction's slider, the images decoded along it from −4 to +4."),
             N_("PC3 is light and dark: up fades the face to pale, down darkens it."),
             N_("PC4 is colour: down turns the face smiley yellow. All of it is blurry: 16 numbers keep colours and "
                "shapes, not details."),
         ), (".st-key-sl_pc2",) + LIVE_IMAGE,  # PC3, and PC4 below it
         (ChangesAlong(EMOJI, int(WHITE_HAIR), 2, "brightness", 0.15),
          ChangesAlong(EMOJI, int(WHITE_HAIR), 3, "yellow", -0.3))),
    Step(N_("Train one in 30 seconds"), "train", {"preset": "classroom"}, (
        N_("The classroom preset: a 2-D VAE on 8×8 digits with a KL warm-up, about 30 s on two CPU cores."),
        N_("Press Start: the map of the codes spreads out as it trains."),
    ), (".st-key-train_codes_map", ".st-key-train_start")),
]
