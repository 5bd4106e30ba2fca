"""Directions and their names: SeFa against NumPy's eigen-decomposition of the same weights (our torch
decoders, their exported ONNX graphs, an imported decoder), measurements against synthetic images whose
values are known, names against a fake decoder that draws a growing square."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from vae.byo.graphs import read_graph
from vae.config import ModelConfig
from vae.explore.directions import (
    NoLinearLayer,
    class_directions,
    dim_ends,
    first_layer_weight,
    name_direction,
    name_ends,
    onnx_first_weight,
    sefa,
    sefa_directions,
    start_codes,
)
from vae.explore.measures import measure
from vae.export.onnx_files import onnx_bytes
from vae.model import VAE

SIZE = 28


def reference_sefa(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NumPy's eigenvalues of AᵀA (descending) and eigenvectors (rows)."""
    a = np.asarray(a, np.float64)
    values, vectors = np.linalg.eigh(a.T @ a)
    return values[::-1], vectors[:, ::-1].T


def assert_same_directions(got: np.ndarray, values: np.ndarray, a: np.ndarray) -> None:
    """``got`` (D, D) and ``values`` are the reference's, each direction up to its sign."""
    ref_values, ref_vectors = reference_sefa(a)
    np.testing.assert_allclose(values, ref_values, rtol=1e-6, atol=1e-8)
    cos = np.abs(np.sum(got.astype(np.float64) * ref_vectors, axis=1))  # |cos| of matching rows
    np.testing.assert_allclose(cos, 1.0, atol=1e-5, err_msg="a SeFa direction is not the eigenvector's")
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_sefa_of_our_decoders_is_the_eigen_decomposition_of_the_first_layer(arch):
    torch.manual_seed(0)
    model = VAE(ModelConfig(arch=arch, image_shape=(1, 8, 8), latent_dim=5,
                            hidden_dims=(16, 32) if arch == "conv" else (64,)))
    a = model.decoder[0].weight.detach().numpy()  # nn.Linear(latent_dim, hidden): (hidden, D)
    np.testing.assert_array_equal(first_layer_weight(model), a)
    vectors, values = sefa_directions(a)
    assert_same_directions(vectors, values, a)
    assert [d.effect for d in sefa(model)] == pytest.approx(list(values))
    assert vectors[np.arange(5), np.abs(vectors).argmax(1)].min() > 0, "signs are not fixed"


@pytest.mark.parametrize("compact", [True, False])
def test_sefa_reads_our_exported_onnx_decoder(compact):
    torch.manual_seed(1)
    model = VAE(ModelConfig(arch="mlp", image_shape=(1, 8, 8), latent_dim=4, hidden_dims=(32,)))
    graph = onnx.load_model_from_string(onnx_bytes(model, "decoder", compact_weights=compact))
    a = onnx_first_weight(graph)  # a Gemm (transB = 1), its weight float16 behind a Cast when compact
    np.testing.assert_allclose(a, model.decoder[0].weight.detach().numpy(), atol=1e-3 if compact else 0)
    assert_same_directions(*sefa_directions(a), a)


def test_sefa_reads_an_imported_onnx_decoder(their_onnx, their_vae):
    """TheirVAE's decoder (fc3 then fc4), exported as a researcher would: the same as NumPy on fc3."""
    _encoder, decoder = their_onnx

    class Imported:  # what first_layer_weight reads of an OnnxVAE
        decoder_graph = read_graph(decoder)

    a = first_layer_weight(Imported())
    np.testing.assert_allclose(a, their_vae.fc3.weight.detach().numpy(), atol=1e-6)
    assert_same_directions(*sefa_directions(a), their_vae.fc3.weight.detach().numpy())


def _graph(first: str, w: np.ndarray) -> onnx.ModelProto:
    """z (B, 3) -> first op -> (B, 5): a MatMul on a stored (3, 5) weight, or a Relu."""
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [None, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 5])
    inits = [numpy_helper.from_array(w.astype(np.float32), "W")]
    if first == "MatMul":
        nodes = [helper.make_node("MatMul", ["z", "W"], ["y"])]
    else:
        nodes = [helper.make_node("Relu", ["z"], ["r"]), helper.make_node("MatMul", ["r", "W"], ["y"])]
    return helper.make_model(helper.make_graph(nodes, "decoder", [z], [y], inits))


def test_a_matmul_decoder_is_read_transposed_and_anything_else_is_named():
    w = np.random.default_rng(0).normal(size=(3, 5))  # z @ W: A = Wᵀ (5, 3)
    a = onnx_first_weight(_graph("MatMul", w))
    np.testing.assert_allclose(a, w.T, rtol=1e-6)
    assert_same_directions(*sefa_directions(a), w.T)
    with pytest.raises(NoLinearLayer, match="first operation on z is Relu"):
        onnx_first_weight(_graph("Relu", w))


def test_class_directions_are_differences_of_class_means_longest_first():
    mu = np.array([[0, 0], [0, 2], [3, 0], [3, 0], [1, 1]], np.float32)
    labels = np.array([0, 0, 1, 1, 2])
    found = class_directions(mu, labels, ["a", "b", "c", "d"])  # "d" has no image
    assert len(found) == 6 and found[0].effect == pytest.approx(np.hypot(3, 1))
    ab = next(d for d in found if d.index == (0, 1))
    np.testing.assert_allclose(ab.vector, [3, -1])
    assert ab.label == "a → b" and [d.effect for d in found] == sorted((d.effect for d in found), reverse=True)


# -- measurements ----------------------------------------------------------------------------------------
def square(side: int, left: int | None = None, top: int | None = None, value: float = 1.0, channels: int = 1,
           light_background: bool = False) -> torch.Tensor:
    """A (C, 28, 28) image: a ``side``-pixel square of ``value`` on black (centred unless placed)."""
    x = torch.zeros(channels, SIZE, SIZE)
    left = (SIZE - side) // 2 if left is None else left
    top = (SIZE - side) // 2 if top is None else top
    x[:, top : top + side, left : left + side] = value
    return 1.0 - x if light_background else x


def test_a_growing_square_has_more_ink_and_is_wider_and_taller():
    m = measure(torch.stack([square(4), square(10), square(20)]))
    np.testing.assert_allclose(m["ink"], np.array([16, 100, 400]) / SIZE**2)
    np.testing.assert_allclose(m["width"], np.array([4, 10, 20]) / SIZE)
    np.testing.assert_allclose(m["height"], np.array([4, 10, 20]) / SIZE)
    np.testing.assert_allclose(m["brightness"], 1.0)
    np.testing.assert_allclose(m["x"], 0.5, atol=1 / SIZE)


def test_a_square_moving_right_moves_the_centre_of_mass_right():
    m = measure(torch.stack([square(6, left=2, top=4), square(6, left=20, top=4)]))
    np.testing.assert_allclose(m["x"], [(2 + 3) / SIZE, (20 + 3) / SIZE])
    np.testing.assert_allclose(m["y"], (4 + 3) / SIZE)
    np.testing.assert_allclose(m["width"], 6 / SIZE)


def test_symmetry_tells_a_centred_shape_from_a_lopsided_one():
    lopsided = square(8, left=4, top=10) + square(4, left=14, top=10)  # two blocks, both left of the centre
    m = measure(torch.stack([square(10), lopsided.clamp(0, 1)]))
    assert m["symmetry"][0] == pytest.approx(1.0)
    assert m["symmetry"][1] < 0.5


def test_light_backgrounds_and_colour_images_measure_the_same():
    dark = measure(torch.stack([square(8, value=0.8), square(14, left=3, value=0.8)]))
    for other in (measure(torch.stack([square(8, value=0.8, light_background=True),
                                       square(14, left=3, value=0.8, light_background=True)]), background=1.0),
                  measure(torch.stack([square(8, value=0.8, channels=3), square(14, left=3, value=0.8, channels=3)]))):
        for k in ("ink", "width", "height", "symmetry", "x", "y"):
            np.testing.assert_allclose(other[k], dark[k], err_msg=k)


# -- names ---------------------------------------------------------------------------------------------------
def square_decoder(z: np.ndarray) -> torch.Tensor:
    """A fake decoder: z[0] sets a centred square's side (4 pixels at z0 = -3, 22 at +3); the rest is ignored."""
    return torch.stack([square(int(round(13 + 3 * float(v)))) for v in np.asarray(z)[:, 0]])


def by_size(images: torch.Tensor) -> np.ndarray:
    """A fake classifier: small squares are class 0, large ones class 1."""
    return (images.flatten(1).mean(1) > 0.2).long().numpy()


def test_a_growing_square_is_named_more_ink_wider():
    starts = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    starts[:, 0] = 0.0  # squares of 4 to 22 pixels at the ends
    name = name_direction(square_decoder, starts, np.array([1.0, 0, 0]), t=3.0)
    assert name.text() == "more ink, wider"
    assert dict(name.changes).keys() == {"ink", "width", "height"}
    assert name.classes == (None, None)
    reverse = name_direction(square_decoder, starts, np.array([-1.0, 0, 0]), t=3.0)
    assert reverse.text() == "less ink, narrower"
    still = name_direction(square_decoder, starts, np.array([0, 1.0, 0]), t=3.0)
    assert still.text() == "no visible change" and not still.changes and still.pixels == 0


def test_names_read_the_classes_at_both_ends_and_translate_every_part():
    starts = np.zeros((4, 3), np.float32)
    name = name_ends(square_decoder, *dim_ends(starts, 0, 3.0), read=by_size, class_names=["Sneaker", "Sandal"])
    assert name.classes == ("Sneaker", "Sandal") and name.shares == (1.0, 1.0)
    assert name.pixels == pytest.approx((22**2 - 4**2) / SIZE**2)
    assert name.text() == "Sneaker → Sandal · more ink" and name.text(n=2) == "Sneaker → Sandal · more ink, wider"
    assert name.changed() == "more ink, wider, taller"
    zh = {"Sneaker": "运动鞋", "Sandal": "凉鞋", "more ink": "墨迹更多", "wider": "更宽", "taller": "更高",
          "{a}, {b}": "{a}，{b}"}
    assert name.text(lambda s: zh.get(s, s), n=2) == "运动鞋 → 凉鞋 · 墨迹更多，更宽"
    assert name.changed(lambda s: zh.get(s, s)) == "墨迹更多，更宽，更高"


def test_start_codes_take_a_few_codes_of_every_class():
    labels = np.array([0, 1, 0, 2, 1, 0, 2])
    mu = np.arange(len(labels), dtype=np.float32)[:, None]
    assert start_codes(mu, labels, per_class=2)[:, 0].tolist() == [0, 1, 2, 3, 4, 6]


def test_a_torch_decoder_that_does_not_start_with_a_linear_layer_is_named():
    class ConvFirst(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.decoder = torch.nn.Sequential(torch.nn.Unflatten(1, (4, 1, 1)), torch.nn.ConvTranspose2d(4, 1, 8))

    with pytest.raises(NoLinearLayer, match="starts with Unflatten, not a linear layer"):
        first_layer_weight(ConvFirst())
