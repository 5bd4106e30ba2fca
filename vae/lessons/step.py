"""One training step of a VAE, taken apart: every tensor on the way, and the code that made it.

:func:`trace_training_step` runs the real training code (:meth:`vae.model.VAE.loss` and
:func:`vae.training.trainer.optimisation_step`, the two calls of :class:`vae.training.trainer.Trainer`'s loop) on a
copy of a model, one batch and a given noise ε, and keeps what the page "One training step"
shows: x -> μ, σ -> ε -> z -> x̂ -> reconstruction + KL -> loss -> gradients -> Adam -> new loss.

:data:`STAGES` names those steps with the functions of ``vae/`` that compute them;
:func:`source_of` reads their lines from the installed source files (``inspect``), so the
page shows the code that actually ran, never a copy.
"""

from __future__ import annotations

import copy
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..i18n import N_, Text
from ..model import VAE, gaussian_kl
from ..training.trainer import Trainer, optimisation_step

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds vae/


@dataclass
class Source:
    """Lines of a function in ``vae/``: the text, the file (relative) and the line numbers."""

    text: str
    path: str
    first: int
    last: int

    @property
    def where(self) -> str:
        return Text(N_("{path}, lines {first}–{last}"), path=self.path, first=self.first, last=self.last)


def source_of(obj: Callable, start: str | None = None, end: str | None = None) -> Source:
    """The source of ``obj`` as it is on disk; with ``start``/``end``, only the lines from the first
    containing ``start`` to the first (after it) containing ``end``."""
    lines, first = inspect.getsourcelines(obj)
    path = Path(inspect.getsourcefile(obj) or "?").resolve()
    lo, hi = 0, len(lines) - 1
    if start is not None:
        lo = next(i for i, line in enumerate(lines) if start in line)
    if end is not None:
        hi = next(i for i in range(lo, len(lines)) if end in lines[i])
    try:
        rel = str(path.relative_to(PACKAGE_ROOT))
    except ValueError:
        rel = str(path)
    return Source(textwrap.dedent("".join(lines[lo : hi + 1])).rstrip(), rel, first + lo, first + hi)


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline: a key, a title, and the code that computes it."""

    key: str
    title: str
    code: tuple[tuple[Callable, str | None, str | None], ...]  # (function or class, start marker, end marker)
    likelihood: tuple[str, ...] = ()  # methods of the model's own likelihood class, shown after ``code``

    def sources(self, model: VAE | None = None) -> list[Source]:
        """The lines behind this stage; with ``model``, also its likelihood's (Bernoulli, Gaussian, ...)."""
        out = [source_of(fn, start, end) for fn, start, end in self.code]
        if model is not None:
            out += [source_of(getattr(type(model.likelihood), name)) for name in self.likelihood]
        return out


STAGES: tuple[Stage, ...] = (
    Stage("x", N_("A batch of images x"), ((Trainer, "in enumerate(sampler.batches())", "xb = "),)),
    Stage("encode", N_("Encoder: μ and σ"), ((VAE.encode, None, None),)),
    Stage("eps", N_("Noise ε ~ N(0, I)"), ((VAE.reparameterize, None, None),)),
    Stage("z", "z = μ + σ ⊙ ε", ((VAE.reparameterize, None, None),)),
    Stage("decode", N_("Decoder: x̂"), ((VAE.decode, None, None), (VAE.decode_mean, None, None)), ("mean",)),
    Stage("loss", N_("Reconstruction + KL = loss"),
          ((VAE.log_likelihood, None, None), (gaussian_kl, None, None), (VAE.loss, None, None)), ("log_prob",)),
    Stage("grad", N_("Gradients by backpropagation"), ((optimisation_step, None, None),)),
    Stage("adam", N_("One Adam step"), ((Trainer, "# fused: every weight", "optimizer = torch.optim.Adam"),
                                   (optimisation_step, None, None))),
    Stage("new", N_("The new loss, and the loop"), ((Trainer, "in enumerate(sampler.batches())", "optimisation_step("),)),
)


@dataclass
class StepTrace:
    """Everything one training step computed, detached, on the CPU (B images, D latent dims)."""

    x: torch.Tensor  # (B, C, H, W) the batch
    mu: torch.Tensor  # (B, D)
    logvar: torch.Tensor  # (B, D)
    eps: torch.Tensor  # (B, D)
    z: torch.Tensor  # (B, D)
    logits: torch.Tensor  # (B, k*C, H, W) decoder output: the likelihood's parameters (logits for Bernoulli)
    x_hat: torch.Tensor  # (B, C, H, W) the likelihood's mean of them: the decoded mean image
    recon: torch.Tensor  # (B,) -log p(x|z), nats
    kl_dims: torch.Tensor  # (B, D) KL per dimension, nats
    beta: float
    loss: float  # recon.mean() + beta * kl.mean(): what the step minimised
    grads: dict[str, torch.Tensor]  # parameter name -> d loss / d parameter
    grad_mu: torch.Tensor  # (B, D) d loss / d mu
    grad_logvar: torch.Tensor  # (B, D)
    grad_z: torch.Tensor  # (B, D)
    grad_logits: torch.Tensor  # (B, C, H, W)
    weights: dict[str, torch.Tensor]  # parameters before the step
    updates: dict[str, torch.Tensor]  # parameter after the first step minus before
    lr: float
    losses: list[float] = field(default_factory=list)  # loss before each step, then after the last
    new_recon: float = 0.0  # after the last step, same batch and ε
    new_kl: float = 0.0
    new_x_hat: torch.Tensor | None = None  # (B, C, H, W)

    @property
    def sigma(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)

    @property
    def kl(self) -> torch.Tensor:
        return self.kl_dims.sum(1)

    @property
    def new_loss(self) -> float:
        return self.losses[-1]


def trace_training_step(model: VAE, x: torch.Tensor, eps: torch.Tensor, beta: float | None = None,
                        lr: float = 2e-3, steps: int = 1) -> StepTrace:
    """Take ``steps`` Adam steps on the batch ``x`` (B, C, H, W) with noise ``eps`` (B, D), on a
    copy of ``model`` (the model itself is untouched), and record the first step in full.

    The forward pass is ``VAE.loss(x, beta, eps)`` and the update ``optimisation_step``, exactly
    what :class:`vae.training.trainer.Trainer` runs for every batch; a fresh Adam with learning rate ``lr``.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if eps.shape != (len(x), model.latent_dim):
        raise ValueError(f"eps must have shape {(len(x), model.latent_dim)}, got {tuple(eps.shape)}")
    beta = model.config.beta if beta is None else float(beta)
    work = copy.deepcopy(model).float().cpu().train()
    for p in work.parameters():
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(work.parameters(), lr=lr, fused=True)  # as the Trainer's
    weights = {n: p.detach().clone() for n, p in work.named_parameters()}
    x, eps = x.float().cpu(), eps.float().cpu()
    with torch.enable_grad():
        out = work.loss(x, beta=beta, eps=eps)
        t = out.terms
        for k in ("mu", "logvar", "z", "logits"):
            t[k].retain_grad()
        optimisation_step(optimizer, out.loss)
        trace = StepTrace(
            x=x, mu=t["mu"].detach(), logvar=t["logvar"].detach(), eps=eps, z=t["z"].detach(),
            logits=t["logits"].detach(), x_hat=work.likelihood.mean(t["logits"]).detach(),
            recon=t["recon"].detach(), kl_dims=t["kl_dims"].detach(), beta=beta, loss=out.loss.item(),
            grads={n: p.grad.detach().clone() for n, p in work.named_parameters()},
            grad_mu=t["mu"].grad.detach(), grad_logvar=t["logvar"].grad.detach(),
            grad_z=t["z"].grad.detach(), grad_logits=t["logits"].grad.detach(), weights=weights,
            updates={n: p.detach() - weights[n] for n, p in work.named_parameters()}, lr=lr,
            losses=[out.loss.item()],
        )
        for _ in range(steps - 1):
            out = work.loss(x, beta=beta, eps=eps)
            optimisation_step(optimizer, out.loss)
            trace.losses.append(out.loss.item())
    with torch.no_grad():
        after = work.loss(x, beta=beta, eps=eps)
    trace.losses.append(after.loss.item())
    trace.new_recon, trace.new_kl = after.recon.item(), after.kl.item()
    trace.new_x_hat = work.likelihood.mean(after.terms["logits"])
    return trace
