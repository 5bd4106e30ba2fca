"""Third-party PyTorch VAEs as ``encode(x) -> (mu, logvar)`` and ``decode(z) -> images``.

:func:`vae.byo.export_vae` takes a model from another code base as it is. Where the two halves are:

- ``encode=`` / ``decode=`` callables, when given (``encode(x)``, ``decode(z)``);
- else the model's ``encode(x)`` / ``decode(z)`` methods (pytorch/examples, PyTorch-VAE);
- else its ``encoder`` / ``decoder`` submodules, called on x and z (pythae).

What the encoder may return (:func:`read_encoding`), mu and logvar each (B, D):

- a tuple or a list: its first two items are mu and logvar;
- a dict-like (any Mapping: pythae's ``ModelOutput`` is an OrderedDict), a named tuple, a dataclass
  or any object with attributes, holding one of the pairs of :data:`ENCODER_NAMES`, first match wins;
- a ``torch.distributions.Normal`` (or an ``Independent`` around one): its ``loc`` and ``scale``.

What the decoder may return (:func:`read_images`): a tensor; a tuple or a list (its first item);
a dict-like, named tuple, dataclass or object holding one of :data:`DECODER_NAMES`.

Anything else is refused in one sentence naming what came back (its type and keys) and the fix
(pass ``encode=`` / ``decode=``). The adapters return plain tensors, so that ``torch.export``
traces through outputs it cannot return itself (pythae's ``ModelOutput`` is no pytree node).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Literal

import torch
from torch import nn

from ..errors import CheckpointError

Spread = Literal["logvar", "log_std", "std"]
#: (mean, spread, what the spread holds) an encoder's output may name: log σ², log σ or σ.
ENCODER_NAMES: tuple[tuple[str, str, Spread], ...] = (
    ("embedding", "log_covariance", "logvar"),  # pythae's ModelOutput (log of the diagonal covariance)
    ("mu", "logvar", "logvar"),
    ("mu", "log_var", "logvar"),
    ("mean", "logvar", "logvar"),
    ("mean", "log_var", "logvar"),
    ("z_mean", "z_log_var", "logvar"),  # Keras' VAE example
    ("mu", "log_std", "log_std"),
    ("loc", "log_scale", "log_std"),
    ("mu", "std", "std"),
    ("loc", "scale", "std"),  # torch.distributions.Normal
)
#: What a decoder's dict-like or attribute output may name its images, first match wins.
DECODER_NAMES = ("reconstruction", "recon", "recon_x", "x_recon", "x_hat")
FIX_ENCODE = "pass encode=, a function of x returning (mu, logvar), e.g. export_vae(model, ..., encode=lambda x: ...)"
FIX_DECODE = "pass decode=, a function of z returning the images, e.g. export_vae(model, ..., decode=lambda z: ...)"


def _field(out: Any, name: str) -> Any:
    if isinstance(out, Mapping):
        return out.get(name)
    return getattr(out, name, None)


def _names(out: Any) -> list[str]:
    """The keys, fields or public attributes of an output, for an error message."""
    if isinstance(out, Mapping):
        return [str(k) for k in out]
    if hasattr(out, "_fields"):
        return list(out._fields)
    if dataclasses.is_dataclass(out):
        return [f.name for f in dataclasses.fields(out)]
    return sorted(k for k in vars(out) if not k.startswith("_")) if hasattr(out, "__dict__") else []


def _kind(out: Any) -> str:
    """What came back, in words: ``ModelOutput with keys ['z']``, ``one tensor of shape (2, 40)``."""
    if torch.is_tensor(out):
        return f"one tensor of shape {tuple(out.shape)}"
    if isinstance(out, (tuple, list)) and not hasattr(out, "_fields"):
        items = ", ".join(f"tensor {tuple(o.shape)}" if torch.is_tensor(o) else type(o).__name__ for o in out)
        return f"a {type(out).__name__} of {len(out)} ({items})"
    names = _names(out)
    what = "keys" if isinstance(out, Mapping) else "fields"
    return f"a {type(out).__name__}" + (f" with {what} {names}" if names else "")


def _named_pair(out: Any) -> tuple[str, str, Spread] | None:
    for mean, spread, kind in ENCODER_NAMES:
        if torch.is_tensor(_field(out, mean)) and torch.is_tensor(_field(out, spread)):
            return mean, spread, kind
    return None


def read_encoding(out: Any, who: str = "encode(x)") -> tuple[torch.Tensor, torch.Tensor, str]:
    """(mu, logvar, how they were read) of what an encoder returned (see the module docstring).

    ``who`` names the call in the error, e.g. ``model.encoder(x)``. Raises CheckpointError.
    """
    if isinstance(out, torch.distributions.Independent):
        out = out.base_dist
    pair = None if torch.is_tensor(out) else _named_pair(out)
    if pair is not None:
        mean, spread, kind = pair
        mu, s = _field(out, mean), _field(out, spread)
        logvar = s if kind == "logvar" else 2.0 * s if kind == "log_std" else 2.0 * torch.log(s)
        how = {"logvar": repr(spread), "log_std": f"2 * {spread!r}", "std": f"2 * log({spread!r})"}[kind]
        return mu, logvar, f"{type(out).__name__} {mean!r} as mu, {how} as logvar"
    if isinstance(out, (tuple, list)) and len(out) >= 2 and torch.is_tensor(out[0]) and torch.is_tensor(out[1]):
        return out[0], out[1], f"a {type(out).__name__}: its first two items as mu and logvar"
    accepted = ", ".join(f"{m}/{s}" for m, s, _ in ENCODER_NAMES)
    raise CheckpointError(f"{who} returned {_kind(out)}, which is not (mu, logvar): a VAE's encoder returns a "
                          f"tuple (mu, logvar), a dict-like or object with one of the pairs {accepted}, or a "
                          f"torch.distributions.Normal; {FIX_ENCODE}")


def read_images(out: Any, who: str = "decode(z)") -> tuple[torch.Tensor, str]:
    """(images, how they were read) of what a decoder returned (see the module docstring)."""
    if torch.is_tensor(out):
        return out, "a tensor"
    for name in DECODER_NAMES:
        if torch.is_tensor(_field(out, name)):
            return _field(out, name), f"{type(out).__name__} {name!r}"
    if isinstance(out, (tuple, list)) and out and torch.is_tensor(out[0]):
        return out[0], f"a {type(out).__name__}: its first item"
    raise CheckpointError(f"{who} returned {_kind(out)}, which holds no images: a decoder returns a tensor, a "
                          f"tuple (images first), or a dict-like or object with one of {', '.join(DECODER_NAMES)}; "
                          f"{FIX_DECODE}")


def _part(model: nn.Module, given: Callable | None, method: str, submodule: str, arg: str) -> tuple[Callable, str]:
    """The callable of one half and how it is called: ``given``, ``model.<method>``, or ``model.<submodule>``."""
    if given is not None:
        if not callable(given):
            raise CheckpointError(f"{method}= must be a function of {arg}, got {type(given).__name__}")
        return given, f"the given {method}({arg})"
    if callable(getattr(model, method, None)):
        return getattr(model, method), f"model.{method}({arg})"
    if callable(getattr(model, submodule, None)):
        return getattr(model, submodule), f"model.{submodule}({arg})"
    fix = FIX_ENCODE if method == "encode" else FIX_DECODE
    raise CheckpointError(f"{type(model).__name__} has no {method}({arg}) method and no {submodule} submodule; {fix}")


class Encoder(nn.Module):
    """x -> (mu, logvar) of a third-party model (plain tensors, for torch.onnx.export)."""

    def __init__(self, model: nn.Module, encode: Callable | None = None):
        super().__init__()
        self.model = model  # registers its weights with the graph
        fn, self.call = _part(model, encode, "encode", "encoder", "x")
        object.__setattr__(self, "fn", fn)  # not a second registration of a submodule's weights

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar, _ = read_encoding(self.fn(x), self.call)
        return mu, logvar

    def describe(self, out: Any) -> str:
        """How ``out`` (what the call returned) is read: ``model.encoder(x): ModelOutput 'embedding' as mu, ...``."""
        return f"{self.call}: {read_encoding(out, self.call)[2]}"


class Decoder(nn.Module):
    """z -> images of a third-party model (a plain tensor, for torch.onnx.export)."""

    def __init__(self, model: nn.Module, decode: Callable | None = None):
        super().__init__()
        self.model = model
        fn, self.call = _part(model, decode, "decode", "decoder", "z")
        object.__setattr__(self, "fn", fn)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return read_images(self.fn(z), self.call)[0]

    def describe(self, out: Any) -> str:
        return f"{self.call}: {read_images(out, self.call)[1]}"


__all__ = ["ENCODER_NAMES", "DECODER_NAMES", "Encoder", "Decoder", "read_encoding", "read_images"]
