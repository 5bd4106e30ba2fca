"""The guided tour's steps: a VAE lecture demo (15 to 20 minutes) as plain data.

A step names a page (its name in pages/_nav.py), the page's state as link parameters (pages/_link.py:
the same parsers a shared link goes through; ``ckpt`` too, else the default checkpoint) and two or
three talking points (title and points marked ``N_``, translated where shown). pages/_tour.py walks
them. Adding a step is one more :class:`Step` in :data:`STEPS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pages._i18n import N_


@dataclass(frozen=True)
class Step:
    """One stop of the tour."""

    title: str  # a few words, shown as "Step k of N: title" (marked N_, translated where shown)
    page: str  # the page's name (pages/_nav.py), e.g. "map"
    params: dict[str, str] = field(default_factory=dict)  # the page's link parameters (and ckpt)
    points: tuple[str, ...] = ()  # two or three talking points (marked N_, translated where shown)


SNEAKER, BOOT = "9", "0"  # test-split images of fashion-mnist: a sneaker and an ankle boot

STEPS: list[Step] = [
    Step(N_("Ten thousand images, one dot each"), "map", {"method": "umap", "color": "class"}, (
        N_("Each dot is one test image, placed by its latent code μ: 16 numbers from the encoder, drawn in 2-D "
           "with UMAP."),
        N_("Nobody told the model the classes (the colours are for us): shoes, trousers and bags still form their "
           "own regions."),
    )),
    Step(N_("One image: what the model makes of it"), "map", {"method": "umap", "point": SNEAKER}, (
        N_("The original, and its reconstruction: the decoder's picture of the code μ. It is blurrier: the "
           "code keeps what tells images apart, not every stitch."),
        N_("−ELBO = reconstruction + KL, in nats, lower is better: what it costs to describe the image with "
           "the model (÷ ln 2 for bits)."),
        N_("The bars are the code itself, μ ± σ per dimension; the green band is ±1 under the prior."),
    )),
    Step(N_("Where the model struggles"), "map", {"method": "umap", "color": "recon"}, (
        N_("Coloured by reconstruction error: bright dots are the images the model finds hardest."),
        N_("Shirts, pullovers and coats overlap: the model mixes up what people mix up too."),
    )),
    Step(N_("The prior: where new codes come from"), "map", {"method": "umap", "prior": "300"}, (
        N_("Black crosses are 300 codes drawn from the prior N(0, I), placed among the data."),
        N_("Click empty space between clusters: the spot is decoded, and far from the data the page says it is "
           "extrapolating."),
    )),
    Step(N_("A 2-D model: the map is the space"), "map", {"ckpt": "fashion-mnist-2d", "method": "latent"}, (
        N_("This model has only two latent numbers, so the map is the latent space itself, with the decoded "
           "image of every spot behind the points."),
        N_("Switch the points off to see the decoded landscape: one garment morphs into the next."),
    )),
    Step(N_("Steer a code with sliders"), "sliders", {"image": SNEAKER, "axes": "latent"}, (
        N_("One slider per latent dimension, most informative (highest KL) first; the decoder runs in the "
           "browser as you drag."),
        N_("Drag the top sliders: the sneaker turns into a boot, then a sandal. The small map shows where the "
           "code goes."),
    )),
    Step(N_("Directions that matter"), "sliders", {"image": SNEAKER, "axes": "pca"}, (
        N_("The same code, now moved along the principal directions of the encoded data, most variance first."),
        N_("The first few directions change shape and size; the last ones hardly change anything."),
    )),
    Step(N_("Walk from a sneaker to a boot"), "interpolate",
         {"tab": "path", "a": SNEAKER, "b": BOOT, "path": "lerp", "steps": "9"}, (
             N_("The codes on the straight line between two images, decoded: every frame is a plausible shoe."),
             N_("Scrub the slider under the strip: the decoder follows in the browser."),
         )),
    Step(N_("New images from the prior"), "generate", {"n": "36", "temp": "1", "seed": "0"}, (
        N_("Draw z ~ N(0, I) and decode it: no real image involved."),
        N_("Many samples are blurry: the prior puts mass where no image's code lies. Try temperature 0.5, then 2."),
    )),
    Step(N_("The ELBO of one image"), "how_it_works", {"image": SNEAKER}, (
        N_("ELBO = E[log p(x|z)] − KL(q(z|x) ‖ p(z)): how well the code reconstructs x, minus what the code "
           "costs."),
        N_("This app reports −ELBO, lower is better: reconstruction + KL, in nats."),
    )),
    Step(N_("What β = 4 changes"), "how_it_works", {"image": SNEAKER, "compare": "fashion-mnist-beta4"}, (
        N_("β weights the KL term in the loss. The table: β = 4 buys a much smaller KL and pays with "
           "reconstruction."),
        N_("It switches dimensions off: they copy the prior and carry nothing (the grey bars)."),
    )),
    Step(N_("β = 1 and β = 4 side by side"), "reconstructions",
         {"compare": "fashion-mnist-beta4", "order": "worst_elbo", "n": "12"}, (
             N_("The same images through both models, hardest first."),
             N_("β = 4 is blurrier: fewer nats for the code, less detail in the picture."),
         )),
    Step(N_("One training step, stage by stage"), "training_step", {"stage": "z"}, (
        N_("A real batch through the model by the functions that trained it: the encoder gives μ and σ, then "
           "z = μ + σ ⊙ ε. The noise ε is drawn outside the network, so the gradients reach μ and σ "
           "(the reparameterisation trick)."),
        N_("Next walks on: the decoder, the loss (reconstruction + KL), the gradients, one Adam step. On the "
           "right, the very code of vae/ that computed each stage."),
    )),
    Step(N_("Autoencoder vs VAE"), "ae_vs_vae", {"seed": "0"}, (
        N_("The same network trained twice: β = 0 (a plain autoencoder, reconstruction only) and β = 1 (the "
           "ELBO)."),
        N_("The autoencoder reconstructs better, but its prior samples decode to noise: nothing made its codes "
           "fill N(0, I). The VAE paid KL for exactly that."),
        N_("Further down, a straight path between two codes: the VAE's decoder draws the space between images."),
    )),
    Step(N_("VAE vs GAN"), "vae_vs_gan", {"seed": "0"}, (
        N_("A GAN trained on the same images draws sharper samples; the page measures it, with a classifier "
           "as the judge."),
        N_("Only the VAE has an encoder and a likelihood: it reconstructs a test image and scores it. The GAN "
           "can only sample."),
    )),
    Step(N_("What VAEs are used for"), "uses", {"noise": "0.4", "mask": "left"}, (
        N_("Denoising and inpainting with no extra training: encode, decode, keep the pixels that are known."),
        N_("Anomaly scores from −ELBO, and their caveat: simpler images of another set can look more likely "
           "than the model's own data."),
    )),
    Step(N_("What VAEs do badly"), "weaknesses", {}, (
        N_("Blur: the decoder draws the mean of p(x|z), and an average of edges is a blur."),
        N_("Posterior collapse, holes between the prior and the encoded data, likelihood that misses "
           "strangers: each measured on the loaded model."),
    )),
    Step(N_("An image the model never saw"), "your_image", {"sample": "drawing", "drawing": "trousers"}, (
        N_("A drawn outline of trousers, converted the way the training images were."),
        N_("Its −ELBO can look typical: likelihood is a weak test for inputs unlike the data. The nearest "
           "neighbours say more."),
    )),
    Step(N_("Train one in 30 seconds"), "train", {"preset": "classroom"}, (
        N_("The classroom preset: a 2-D VAE on 8×8 digits with a KL warm-up, about 30 s on two CPU cores."),
        N_("Press Start: the map of the codes spreads out as it trains."),
    )),
]
