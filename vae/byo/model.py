"""Models brought from elsewhere: a VAE as two ONNX graphs, run with onnxruntime.

An imported checkpoint folder holds::

    encoder.onnx   x -> (mu, logvar), each (B, D): images (B, C, H, W) or flattened (B, C*H*W)
    decoder.onnx   z (B, D) -> images (B, C, H, W) or flattened (B, C*H*W)
    config.json    {"kind": "onnx-vae", ...}: :class:`OnnxConfig`, their conventions
    meta.json      dataset, class names, where the model came from, metrics

No code of theirs is ever run: the graphs are checked with the ``onnx`` library first
(:mod:`vae.byo.graphs`: size cap, no pickle, no external data, standard operators only) and then
run by onnxruntime (the CPU provider; CUDA's where onnxruntime has it). Only flat latent codes
(B, D) are supported.

:class:`OnnxVAE` presents the two graphs with :class:`vae.model.VAE`'s methods (encode, decode,
decode_mean, embed, generate, per_image_terms, log_likelihood, ...), torch tensors in and out, so
that the explorer's pages and :mod:`vae.evaluate` treat it like one of ours. It cannot be trained.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import JsonConfig
from ..errors import ConfigError
from ..folders import IMPORTED_NOTE, ONNX_KIND
from ..likelihoods import LOG_2PI, Likelihood
from ..model import VAE
from .graphs import Graph, OnnxFileError, page_graph, read_graph

KIND = ONNX_KIND
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
LAYOUTS = ("image", "flat")
RANGES = ((0, 1), (-1, 1))
OUTPUTS = ("probabilities", "logits")
LIKELIHOOD_NAMES = ("bernoulli", "gaussian", "none")
MAX_LATENT = 4096
#: A decoder's outputs may overshoot their declared range by this much (float error) and still pass.
RANGE_TOLERANCE = 1e-3


class NotTrainableError(ConfigError):
    """An imported model was asked to train (``train --resume``, a training step)."""


@dataclass(frozen=True)
class OnnxConfig(JsonConfig):
    """What an imported model's config.json declares (every field has a default but the sizes)."""

    KIND: ClassVar[str] = KIND

    image_shape: tuple[int, int, int] = (1, 28, 28)  # (channels, height, width) of the images
    latent_dim: int = 16  # size of z: the encoder's outputs and the decoder's input are (B, latent_dim)
    encoder_input: Literal["image", "flat"] = "image"  # the encoder takes (B, C, H, W), or (B, C*H*W)
    decoder_output: Literal["image", "flat"] = "image"  # the decoder returns (B, C, H, W), or (B, C*H*W)
    input_range: tuple[int, int] = (0, 1)  # pixel values the encoder expects: (0, 1) or (-1, 1)
    output_range: tuple[int, int] = (0, 1)  # pixel values the decoder returns: (0, 1) or (-1, 1)
    decoder_outputs: Literal["probabilities", "logits"] = "probabilities"  # logits: a sigmoid makes them [0, 1]
    # the likelihood p(x|z) behind the ELBO figures: "bernoulli" (binary cross-entropy, as pytorch/examples),
    # "gaussian" (with `sigma`), or "none" (no ELBO: reconstructions, maps and codes only)
    likelihood: Literal["bernoulli", "gaussian", "none"] = "bernoulli"
    sigma: float = 0.1  # gaussian only: the standard deviation, on the decoder's own pixel scale
    beta: float = 1.0  # the KL weight it was trained with, when known (shown only: figures are the plain ELBO)

    arch: ClassVar[str] = "onnx"
    hidden_dims: ClassVar[tuple[int, ...]] = ()
    variance: ClassVar[str] = "fixed"

    def validate(self) -> OnnxConfig:
        shape = tuple(self.image_shape)
        if len(shape) != 3 or shape[0] not in (1, 3) or any(int(s) < 1 for s in shape):
            raise ConfigError(f"image_shape must be (1 or 3, height, width), got {self.image_shape!r}")
        if not isinstance(self.latent_dim, int) or not 1 <= self.latent_dim <= MAX_LATENT:
            raise ConfigError(f"latent_dim must be a whole number from 1 to {MAX_LATENT}, got {self.latent_dim!r}")
        for name in ("encoder_input", "decoder_output"):
            if getattr(self, name) not in LAYOUTS:
                raise ConfigError(f"{name} must be image or flat, got {getattr(self, name)!r}")
        for name in ("input_range", "output_range"):
            if tuple(getattr(self, name)) not in RANGES:
                raise ConfigError(f"{name} must be [0, 1] or [-1, 1], got {getattr(self, name)!r}")
        if self.decoder_outputs not in OUTPUTS:
            raise ConfigError(f"decoder_outputs must be probabilities or logits, got {self.decoder_outputs!r}")
        if self.decoder_outputs == "logits" and tuple(self.output_range) != (0, 1):
            raise ConfigError("decoder_outputs 'logits' are mapped to [0, 1] by a sigmoid, so output_range must "
                              "be [0, 1]")
        if self.likelihood not in LIKELIHOOD_NAMES:
            raise ConfigError(f"likelihood must be one of {', '.join(LIKELIHOOD_NAMES)}, got {self.likelihood!r}")
        if not (isinstance(self.sigma, (int, float)) and 0 < self.sigma < math.inf):
            raise ConfigError(f"sigma must be a finite number > 0, got {self.sigma!r}")
        if not (isinstance(self.beta, (int, float)) and 0 <= self.beta < math.inf):
            raise ConfigError(f"beta must be a finite number >= 0, got {self.beta!r}")
        return self

    @property
    def num_pixels(self) -> int:
        c, h, w = self.image_shape
        return c * h * w

    @property
    def logits(self) -> bool:
        return self.decoder_outputs == "logits"

    def describe(self) -> str:
        """The graphs' conventions in one phrase: ``flattened images (B, 784) in [0, 1] -> latent 20 ->
        images (B, 1, 28, 28) in [0, 1], bernoulli likelihood``."""
        c, h, w = self.image_shape
        shapes = {"image": f"images (B, {c}, {h}, {w})", "flat": f"flattened images (B, {c * h * w})"}
        lo, hi = self.input_range
        out = "as logits" if self.logits else "in [{}, {}]".format(*self.output_range)
        likelihood = {"bernoulli": "bernoulli likelihood", "gaussian": f"gaussian likelihood (sigma {self.sigma:g})",
                      "none": "no likelihood"}[self.likelihood]
        return (f"{shapes[self.encoder_input]} in [{lo}, {hi}] -> latent {self.latent_dim} -> "
                f"{shapes[self.decoder_output]} {out}, {likelihood}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, **super().to_dict()}  # what it is, wherever the dict is shown


class DeclaredLikelihood(Likelihood):
    """p(x|z) as an imported model's config declares it. The decoder's outputs (``params``) arrive on
    the [0, 1] scale, (B, C, H, W): probabilities, or logits that a sigmoid maps there."""

    outputs_per_pixel = 1
    discrete = False

    def __init__(self, config: OnnxConfig):
        super().__init__(config)  # type: ignore[arg-type]
        self.name = config.likelihood  # type: ignore[misc]
        self.logits = config.logits
        # a sigma on the [-1, 1] scale is half as wide on [0, 1]
        self.sigma = float(config.sigma) * (0.5 if tuple(config.output_range) == (-1, 1) else 1.0)
        self.label = {"bernoulli": "Bernoulli per pixel", "gaussian": f"Gaussian per pixel (σ = {config.sigma:g})",
                      "none": "no likelihood declared"}[config.likelihood]  # type: ignore[misc]

    @property
    def available(self) -> bool:
        """Whether log p(x|z) (and so any ELBO) can be computed."""
        return self.name != "none"

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(params) if self.logits else params.clamp(0.0, 1.0)

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.name == "bernoulli":
            if self.logits:
                ll = -F.binary_cross_entropy_with_logits(params, x, reduction="none")
            else:  # torch clamps the logs at -100, as pytorch/examples' loss does
                ll = -F.binary_cross_entropy(params.clamp(0.0, 1.0), x, reduction="none")
        elif self.name == "gaussian":
            s = self.sigma
            ll = -0.5 * ((x - self.mean(params)) / s).pow(2) - math.log(s) - 0.5 * LOG_2PI
        else:  # no likelihood: every figure that needs one is NaN (shown as n/a)
            return torch.full((len(x),), float("nan"), dtype=params.dtype)
        return ll.flatten(1).sum(1)

    def formula(self, n_pixels: int) -> str:
        if self.name == "gaussian":
            return (rf"\log p(x\mid z) = \sum_{{i=1}}^{{{n_pixels}}} -\frac{{(x_i - \hat x_i)^2}}{{2s^2}} - \log s"
                    r" - \tfrac12 \log 2\pi")
        if self.name == "bernoulli":
            return rf"\log p(x\mid z) = \sum_{{i=1}}^{{{n_pixels}}} x_i \log \hat x_i + (1 - x_i)\log(1 - \hat x_i)"
        return r"\log p(x\mid z)\ \text{is not declared for this model}"


def _providers() -> list[str]:
    """onnxruntime's CUDA provider when this build has one and a GPU is there, then the CPU's."""
    import onnxruntime as ort

    have = ort.get_available_providers()
    gpu = ["CUDAExecutionProvider"] if "CUDAExecutionProvider" in have and torch.cuda.is_available() else []
    return [*gpu, "CPUExecutionProvider"]


def make_session(graph: Graph, threads: int | None = None):
    """An onnxruntime session of a checked graph (from its bytes: nothing beside the file is read)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or max(1, torch.get_num_threads())
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # onnxruntime's own warnings would go to the server's stderr
    try:
        return ort.InferenceSession(graph.data, sess_options=opts, providers=_providers())
    except Exception as e:
        raise OnnxFileError(f"{graph.path} cannot be run by onnxruntime: {' '.join(str(e).split())[:200]}") from None


class OnnxVAE(VAE):
    """Two ONNX graphs with :class:`vae.model.VAE`'s interface (see the module docstring).

    Its encode/decode run onnxruntime on CPU tensors (no autograd); everything built on them
    (embed, generate, reconstruct, per_image_terms, elbo_terms, ...) is VAE's own code.
    """

    def __init__(self, config: OnnxConfig, encoder: Graph, decoder: Graph):
        nn.Module.__init__(self)  # no torch layers: the graphs are the model
        self.config = config  # type: ignore[assignment]
        self.likelihood = DeclaredLikelihood(config)
        self.encoder_graph, self.decoder_graph = encoder, decoder
        self._encoder = make_session(encoder)
        self._decoder = make_session(decoder)
        self._enc_in = self._encoder.get_inputs()[0].name
        self._dec_in = self._decoder.get_inputs()[0].name

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def num_parameters(self, part: Literal["all", "encoder", "decoder"] = "all") -> int:
        """Weights stored in the two graphs (their initializers): both, or one graph's."""
        if part not in ("all", "encoder", "decoder"):
            raise ValueError(f"part must be 'all', 'encoder' or 'decoder', got {part!r}")
        enc, dec = self.encoder_graph.n_weights, self.decoder_graph.n_weights
        return {"all": enc + dec, "encoder": enc, "decoder": dec}[part]

    def train(self, mode: bool = True) -> OnnxVAE:
        if mode:
            raise NotTrainableError(IMPORTED_NOTE.format(name="this model"))
        return super().train(False)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) in [0, 1] -> mu (B, D), logvar (B, D) (log-variance clamped as ours is)."""
        cfg = self.config
        x = x.detach().float().cpu()
        if tuple(cfg.input_range) == (-1, 1):
            x = x * 2.0 - 1.0
        if cfg.encoder_input == "flat":
            x = x.reshape(len(x), -1)
        out = self._encoder.run(None, {self._enc_in: np.ascontiguousarray(x.numpy())})
        mu, logvar = (torch.from_numpy(np.asarray(o, dtype=np.float32)).reshape(len(x), -1) for o in out[:2])
        return mu, logvar.clamp(-30.0, 20.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) -> the decoder's outputs as (B, C, H, W) on the [0, 1] scale (probabilities or logits)."""
        cfg = self.config
        z = z.detach().float().cpu()
        out = self._decoder.run(None, {self._dec_in: np.ascontiguousarray(z.numpy())})[0]
        y = torch.from_numpy(np.asarray(out, dtype=np.float32)).reshape(len(z), *cfg.image_shape)
        if tuple(cfg.output_range) == (-1, 1):
            y = (y + 1.0) * 0.5
        return y

    def page_onnx(self, part: str) -> bytes:
        """The graph the page runs, wrapped to our exported graphs' conventions (vae.export.onnx_files)."""
        cfg = self.config
        if part == "decoder":
            return page_graph(self.decoder_graph, part, cfg.image_shape, cfg.decoder_output == "flat",
                              cfg.output_range, cfg.logits)
        return page_graph(self.encoder_graph, part, cfg.image_shape, cfg.encoder_input == "flat", cfg.input_range)


# -- signatures ----------------------------------------------------------------------------------
def latent_of(port, role: str, path: Path) -> int | None:
    """The latent size a (B, D) port declares (None when unknown); spatial latents are refused."""
    if port.rank is not None and port.rank != 2:
        raise OnnxFileError(f"{path}: {port.describe()} is not a flat latent code (B, D); spatial latents "
                            f"(such as Stable Diffusion's 4×h×w) are not supported, only (B, D) codes as the {role}")
    return None if port.shape is None else port.shape[1]


def layout_of(port, image_shape: tuple[int, int, int], path: Path, what: str) -> str | None:
    """"image" or "flat" from a port's declared shape (None when it declares none); a wrong size is refused."""
    if port.shape is None:
        return None
    c, h, w = image_shape
    rest = port.shape[1:]
    if len(port.shape) == 4 and all(d is None or d == e for d, e in zip(rest, (c, h, w), strict=True)):
        return "image"
    if len(port.shape) == 2 and rest[0] in (None, c * h * w):
        return "flat"
    raise OnnxFileError(f"{path}: {what} {port.describe()} fits neither images [B, {c}, {h}, {w}] nor flattened "
                        f"images [B, {c * h * w}] of the data set")


def check_batch(graph: Graph) -> None:
    """OnnxFileError when an input declares its batch dimension as a number: onnxruntime then refuses
    any other batch, and the explorer runs hundreds of images at once."""
    for port in graph.inputs:
        if port.shape and port.shape[0] is not None:
            raise OnnxFileError(
                f"{graph.path}: input {port.describe()} has a fixed batch of {port.shape[0]}; re-export it with a "
                f'dynamic batch axis: torch.onnx.export(..., dynamic_axes={{"{port.name}": {{0: "batch"}}}}), or '
                'dynamic_shapes=({0: torch.export.Dim("batch")},) with dynamo=True; from Keras (tf2onnx), an input '
                "signature whose batch dimension is None")


def check_signatures(cfg: OnnxConfig, enc: Graph, dec: Graph) -> None:
    """Both graphs' inputs and outputs against the config, and the two latent sizes against each other."""
    if len(enc.inputs) != 1:
        raise OnnxFileError(f"{enc.path} has {len(enc.inputs)} inputs; an encoder takes one, the images")
    if len(enc.outputs) < 2:
        raise OnnxFileError(f"{enc.path} has {len(enc.outputs)} output; an encoder returns two, mu and logvar "
                            "(B, D) each")
    if len(dec.inputs) != 1:
        raise OnnxFileError(f"{dec.path} has {len(dec.inputs)} inputs; a decoder takes one, z (B, D)")
    check_batch(enc)
    check_batch(dec)
    d_enc = [latent_of(p, "encoder's output", enc.path) for p in enc.outputs[:2]]
    d_dec = latent_of(dec.inputs[0], "decoder's input", dec.path)
    known = {d for d in (*d_enc, d_dec) if d is not None}
    if len(known) > 1:
        raise OnnxFileError(f"the encoder and the decoder disagree on the latent size: {enc.path.name} returns "
                            f"{' and '.join(p.describe() for p in enc.outputs[:2])}, {dec.path.name} takes "
                            f"{dec.inputs[0].describe()}")
    if known and known != {cfg.latent_dim}:
        raise OnnxFileError(f"config.json declares latent_dim {cfg.latent_dim} but the graphs use {known.pop()}")
    for graph, port, declared, what in ((enc, enc.inputs[0], cfg.encoder_input, "input"),
                                        (dec, dec.outputs[0], cfg.decoder_output, "output")):
        found = layout_of(port, cfg.image_shape, graph.path, what)
        if found is not None and found != declared:
            raise OnnxFileError(f"{graph.path}: its {what} {port.describe()} is {found} images but config.json "
                                f"declares {declared}")


def probe(model: OnnxVAE, what: str = "") -> None:
    """Run both graphs once (two grey images, z = 0): right shapes and finite values, else OnnxFileError."""
    cfg = model.config
    x = torch.full((2, *cfg.image_shape), 0.5)
    try:
        mu, logvar = model.encode(x)
        params = model.decode(torch.cat([mu, torch.zeros_like(mu)]))
    except OnnxFileError:
        raise
    except Exception as e:  # onnxruntime's shape errors, a reshape that does not fit
        raise OnnxFileError(f"running the graphs{what} failed: {' '.join(str(e).split())[:200]}") from None
    if mu.shape != (2, cfg.latent_dim):
        raise OnnxFileError(f"{model.encoder_graph.path} returns codes of shape {tuple(mu.shape)}, config.json "
                            f"declares latent_dim {cfg.latent_dim}")
    for name, t, path in (("mu and logvar", torch.cat([mu, logvar]), model.encoder_graph.path),
                          ("images", params, model.decoder_graph.path)):
        if not torch.isfinite(t).all():
            raise OnnxFileError(f"{path} returns NaN or infinite {name}{what}; the model is broken")


# -- the folder ----------------------------------------------------------------------------------
def folder_hash(path: Path) -> str:
    """SHA-256 (hex, 16 chars) of config.json and both graphs: the cache key of an imported model."""
    h = hashlib.sha256()
    for name in ("config.json", ENCODER_FILE, DECODER_FILE):
        h.update((path / name).read_bytes())
    return h.hexdigest()[:16]


def load_graphs(path: Path, cfg: OnnxConfig) -> OnnxVAE:
    """Check both graphs of a folder, make the sessions and run the probe; OnnxFileError says why not."""
    enc, dec = read_graph(path / ENCODER_FILE), read_graph(path / DECODER_FILE)
    check_signatures(cfg, enc, dec)
    model = OnnxVAE(cfg, enc, dec)
    probe(model)
    return model.eval()
