"""Reading ONNX files that someone else made, without trusting them.

Every check here is done with the ``onnx`` library on the file's bytes, before onnxruntime ever
sees it (:func:`read_graph`):

- a size cap (:data:`MAX_ONNX_BYTES`), checked on the file's size before it is read;
- a pickle (``torch.save``) or a zip archive named ``.onnx`` is named for what it is and never opened;
- the bytes must parse as an ONNX model and pass ``onnx.checker``;
- no tensor may live in an external-data file (inside the folder or outside it): only
  self-contained files are loaded;
- only the standard operator set (domain ``""`` / ``ai.onnx``): a custom-operator domain needs a
  native library this tool never loads;
- float32 inputs and outputs.

:func:`page_graph` wraps a checked graph so that it follows the conventions of our own exported
graphs (``vae.export.onnx_files``): ``z (B, D) -> image (B, C, H, W) in [0, 1]`` and
``x (B, C, H, W) in [0, 1] -> mu, logvar (B, D)``; that is what the page's live decoder runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: The largest ONNX file read (bytes). A VAE for 28x28 images is a few MB; 256 MiB leaves room for
#: large colour models while keeping a hostile file from filling the server's memory.
MAX_ONNX_BYTES = 256 * 2**20
STANDARD_DOMAINS = ("", "ai.onnx")
#: The first bytes of a pickle (protocol 2 to 5) and of a zip archive (torch.save's format since 1.6).
PICKLE_MAGIC = tuple(bytes([0x80, p]) for p in range(2, 6))
ZIP_MAGIC = b"PK\x03\x04"


class OnnxFileError(ValueError):
    """An ONNX file is refused; the message names the file, the reason and the fix."""


@dataclass
class Port:
    """One input or output of a graph: its name and declared shape (None for an unknown dim)."""

    name: str
    shape: list[int | None] | None  # None when the graph declares no shape

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    def describe(self) -> str:
        if self.shape is None:
            return f"{self.name} (shape not declared)"
        return f"{self.name} [{', '.join('B' if i == 0 and d is None else '?' if d is None else str(d) for i, d in enumerate(self.shape))}]"


@dataclass
class Graph:
    """A checked ONNX model: its bytes (what a session is made from), inputs, outputs, weights."""

    path: Path
    data: bytes
    inputs: list[Port]
    outputs: list[Port]
    n_weights: int
    last_op: str  # the operator that makes the first output ("Sigmoid", "Tanh", "Clip", ...)
    last_clip: tuple[float, float] | None  # (min, max) when that operator is a Clip with constant bounds
    model: onnx.ModelProto


def _port(vi: onnx.ValueInfoProto) -> tuple[Port, int]:
    t = vi.type.tensor_type
    shape = None
    if t.HasField("shape"):
        shape = [int(d.dim_value) if d.HasField("dim_value") else None for d in t.shape.dim]
    return Port(vi.name, shape), int(t.elem_type)


def _graphs(g: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """``g`` and every subgraph inside it (If / Loop / Scan bodies)."""
    yield g
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for sub in a.graphs:
                    yield from _graphs(sub)


def _tensors(g: onnx.GraphProto) -> Iterator[TensorProto]:
    """Every tensor a graph stores: initializers, sparse initializers, constant attributes."""
    yield from g.initializer
    for s in g.sparse_initializer:
        yield s.values
        yield s.indices
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                yield a.t
            elif a.type == onnx.AttributeProto.TENSORS:
                yield from a.tensors
            elif a.type == onnx.AttributeProto.SPARSE_TENSOR:
                yield a.sparse_tensor.values
                yield a.sparse_tensor.indices


def _external_location(t: TensorProto) -> str | None:
    if t.data_location != TensorProto.EXTERNAL:
        return None
    return next((e.value for e in t.external_data if e.key == "location"), "?")


def read_graph(path: str | Path, max_bytes: int | None = None) -> Graph:
    """Check an ONNX file (see the module docstring) and return it; OnnxFileError says why not."""
    path = Path(path)
    cap = MAX_ONNX_BYTES if max_bytes is None else max_bytes
    if not path.is_file():
        raise OnnxFileError(f"{path} is missing")
    size = os.stat(path).st_size
    if size > cap:
        raise OnnxFileError(f"{path} is {size / 2**20:.0f} MiB, over the {cap / 2**20:.0f} MiB cap on ONNX files; "
                            "it was not read")
    data = path.read_bytes()
    if data[:2] in PICKLE_MAGIC or data[:4] == ZIP_MAGIC:
        raise OnnxFileError(f"{path} is a Python pickle (torch.save), not ONNX: pickles can run code when "
                            "opened and are never loaded; export the model with torch.onnx.export")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf's DecodeError and friends
        raise OnnxFileError(f"{path} is not an ONNX model ({type(e).__name__}); export it with "
                            "torch.onnx.export") from None
    if not model.HasField("graph") or not model.graph.node or not model.graph.output:
        raise OnnxFileError(f"{path} is not an ONNX model (no graph inside); export it with torch.onnx.export")
    graphs = list(_graphs(model.graph)) + [f for f in model.functions]  # type: ignore[misc]
    for g in graphs:
        if not isinstance(g, onnx.GraphProto):
            continue
        for t in _tensors(g):
            where = _external_location(t)
            if where is not None:
                raise OnnxFileError(
                    f"{path} keeps tensor {t.name or '?'} in an external file ({where!r}): only self-contained "
                    "ONNX files are loaded, never files they point to; re-export with the weights inside "
                    "(torch.onnx.export(..., external_data=False))")
    for o in model.opset_import:
        if o.domain not in STANDARD_DOMAINS:
            raise OnnxFileError(f"{path} uses the custom-operator domain {o.domain!r}: only standard ONNX "
                                "operators are run (custom operators are native code this tool never loads)")
    for g in graphs:
        for node in g.node:
            if node.domain not in STANDARD_DOMAINS:
                raise OnnxFileError(f"{path} uses operator {node.op_type} of the custom domain {node.domain!r}: "
                                    "only standard ONNX operators are run")
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise OnnxFileError(f"{path} fails ONNX's checker: {' '.join(str(e).split())[:200]}") from None
    inits = {t.name for t in model.graph.initializer}
    inputs, outputs = [], []
    for vis, out in ((model.graph.input, inputs), (model.graph.output, outputs)):
        for vi in vis:
            if vi.name in inits:
                continue  # older exports list their weights among the inputs
            port, elem = _port(vi)
            if elem != TensorProto.FLOAT:
                kind = TensorProto.DataType.Name(elem).lower() if elem else "an undeclared type"
                raise OnnxFileError(f"{path}: {vi.name} is {kind}; only float32 inputs and outputs are supported")
            out.append(port)
    n_weights = sum(int(np.prod(t.dims)) for t in model.graph.initializer if t.dims)  # not scalar constants
    last_op, clip = _producer(model.graph, model.graph.output[0].name)
    return Graph(path, data, inputs, outputs, n_weights, last_op, clip, model)


def _constant(g: onnx.GraphProto, name: str) -> float | None:
    for t in g.initializer:
        if t.name == name:
            v = numpy_helper.to_array(t)
            return float(v) if v.size == 1 else None
    for node in g.node:
        if node.op_type == "Constant" and node.output[0] == name:
            for a in node.attribute:
                if a.name == "value":
                    v = numpy_helper.to_array(a.t)
                    return float(v) if v.size == 1 else None
                if a.name == "value_float":
                    return float(a.f)
    return None


def _producer(g: onnx.GraphProto, name: str) -> tuple[str, tuple[float, float] | None]:
    """The operator that makes ``name`` (looking through reshapes), and a Clip's constant bounds."""
    by_output = {o: n for n in g.node for o in n.output}
    node = by_output.get(name)
    while node is not None and node.op_type in ("Reshape", "Identity", "Flatten", "View", "Unsqueeze", "Squeeze"):
        node = by_output.get(node.input[0])
    if node is None:
        return "", None
    if node.op_type == "Clip":
        lo = _constant(g, node.input[1]) if len(node.input) > 1 and node.input[1] else None
        hi = _constant(g, node.input[2]) if len(node.input) > 2 and node.input[2] else None
        for a in node.attribute:  # opset < 11 keeps the bounds as attributes
            lo = a.f if a.name == "min" else lo
            hi = a.f if a.name == "max" else hi
        return "Clip", (lo, hi) if lo is not None and hi is not None else None
    return node.op_type, None


# -- the graphs the page runs ------------------------------------------------------------------
def _const(name: str, values, dtype=np.float32) -> TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def page_graph(graph: Graph, part: str, image_shape: tuple[int, int, int], flat: bool,
               pixel_range: tuple[int, int], logits: bool = False) -> bytes:
    """``graph`` wrapped to our conventions (see the module docstring), as serialised ONNX.

    decoder: ``z`` -> their decoder -> reshape to (B, C, H, W) -> [-1, 1] mapped to [0, 1], or a
    sigmoid of logits -> clamped to [0, 1] -> ``image``.
    encoder: ``x`` in [0, 1] -> mapped to [-1, 1] when they expect that -> flattened when they
    expect (B, C*H*W) -> their encoder -> its first two outputs as ``mu`` and ``logvar``.
    """
    c, h, w = image_shape
    model = onnx.compose.add_prefix(graph.model, "theirs/")
    g = model.graph
    their_in = g.input[[i for i, vi in enumerate(g.input) if vi.name not in {t.name for t in g.initializer}][0]].name
    their_out = [vi.name for vi in g.output]
    pre, post, consts = [], [], []
    if part == "decoder":
        inputs = [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", None])]
        pre.append(helper.make_node("Identity", ["z"], [their_in]))
        consts += [_const("page/shape", [-1, c, h, w], np.int64), _const("page/zero", 0.0), _const("page/one", 1.0)]
        y = "page/image4"
        post.append(helper.make_node("Reshape", [their_out[0], "page/shape"], [y]))
        if logits:
            post.append(helper.make_node("Sigmoid", [y], ["page/sigmoid"]))
            y = "page/sigmoid"
        elif tuple(pixel_range) == (-1, 1):
            consts.append(_const("page/half", 0.5))
            post += [helper.make_node("Add", [y, "page/one"], ["page/shifted"]),
                     helper.make_node("Mul", ["page/shifted", "page/half"], ["page/scaled"])]
            y = "page/scaled"
        post += [helper.make_node("Max", [y, "page/zero"], ["page/low"]),
                 helper.make_node("Min", ["page/low", "page/one"], ["image"])]
        outputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", c, h, w])]
    else:
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", c, h, w])]
        x = "x"
        if tuple(pixel_range) == (-1, 1):
            consts += [_const("page/two", 2.0), _const("page/one", 1.0)]
            pre += [helper.make_node("Mul", [x, "page/two"], ["page/x2"]),
                    helper.make_node("Sub", ["page/x2", "page/one"], ["page/x11"])]
            x = "page/x11"
        if flat:
            consts.append(_const("page/flat", [-1, c * h * w], np.int64))
            pre.append(helper.make_node("Reshape", [x, "page/flat"], ["page/xflat"]))
            x = "page/xflat"
        pre.append(helper.make_node("Identity", [x], [their_in]))
        post += [helper.make_node("Identity", [their_out[0]], ["mu"]),
                 helper.make_node("Identity", [their_out[1]], ["logvar"])]
        outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", None]) for n in ("mu", "logvar")]
    wrapped = helper.make_graph(pre + list(g.node) + post, f"page-{part}", inputs, outputs,
                                initializer=list(g.initializer) + consts, value_info=list(g.value_info),
                                sparse_initializer=list(g.sparse_initializer))
    out = helper.make_model(wrapped, opset_imports=list(model.opset_import), ir_version=model.ir_version,
                            producer_name="vae-explorer (wrapping an imported model)")
    out.functions.extend(model.functions)
    onnx.checker.check_model(out)
    return out.SerializeToString()
