"""vae.explore.neighbours: the neighbours of one image against a brute-force search (numpy's argsort of
the whole distance matrix, scikit-learn's cosine distances), search against plain Python filtering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vae.errors import SearchError
from vae.explore.neighbours import NeighbourIndex, search

ROOT = Path(__file__).resolve().parents[2]


def brute(points: np.ndarray, i: int, k: int, metric: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """Row i of the full distance matrix, argsorted, i itself left out: (indices, distances)."""
    x = np.asarray(points, np.float64)
    if metric == "cosine":
        from sklearn.metrics.pairwise import cosine_distances

        d = cosine_distances(x[i : i + 1], x)[0]
    else:
        d = np.sqrt(((x - x[i]) ** 2).sum(1))
    order = [j for j in np.argsort(d, kind="stable") if j != i][:k]
    return np.array(order), d[order]


def same(got, want_idx, want_d, rtol=1e-9, atol=1e-9) -> None:
    """Same distances; the same indices up to ties (a set compared where distances are equal)."""
    np.testing.assert_allclose(got.distances, want_d, rtol=rtol, atol=atol)
    tie = np.isclose(want_d, want_d[-1], rtol=rtol, atol=atol)  # the last place may be tied
    assert set(got.indices[~tie]) == set(want_idx[~tie]), (got.indices, want_idx)


@pytest.mark.parametrize("dim", [2, 16, 64])
def test_latent_neighbours_match_brute_force_on_random_codes(dim):
    rng = np.random.default_rng(dim)
    mu = rng.standard_normal((600, dim)).astype(np.float32)
    index = NeighbourIndex(mu)
    full = np.sqrt(((mu[:, None, :].astype(np.float64) - mu[None]) ** 2).sum(-1))  # (N, N)
    for i in rng.choice(len(mu), 25, replace=False):
        for k in (1, 5, 20):
            got = index.latent(int(i), k)
            order = [j for j in np.argsort(full[i], kind="stable") if j != i][:k]
            assert i not in got.indices and len(got) == k
            np.testing.assert_array_equal(got.indices, order)
            np.testing.assert_allclose(got.distances, full[i, order], rtol=1e-12)


@pytest.mark.parametrize("dim", [2, 16])  # 2: a 2-D model's codes (ExactKnn's tree)
def test_cosine_neighbours_match_scikit_learn(dim):
    rng = np.random.default_rng(1)
    mu = rng.standard_normal((500, dim)).astype(np.float32)
    mu[7] = 0.0  # a zero code: distance 1 to every other, as scikit-learn says
    index = NeighbourIndex(mu)
    for i in [0, 7, 123, 499]:
        want_idx, want_d = brute(mu, i, 10, "cosine")
        same(index.latent(i, 10, "cosine"), want_idx, want_d, rtol=1e-6, atol=1e-6)


def test_pixel_neighbours_and_the_shared_count():
    rng = np.random.default_rng(2)
    images = rng.random((300, 1, 8, 8)).astype(np.float32)
    mu = rng.standard_normal((300, 4)).astype(np.float32)
    mu[:, 0] = images.reshape(300, -1)[:, :8].sum(1)  # some agreement between the two spaces
    index = NeighbourIndex(mu, images)
    for i in (0, 50, 299):
        rep = index.report(i, 12)
        want_idx, want_d = brute(images.reshape(300, -1), i, 12)
        same(rep.pixel, want_idx, want_d)
        lat_idx, _d = brute(mu, i, 12)
        shared = [j for j in lat_idx if j in set(want_idx)]
        assert rep.shared.tolist() == shared and rep.share == len(shared) / 12


def test_k_is_capped_by_the_set_and_bad_arguments_name_the_fix():
    index = NeighbourIndex(np.eye(4, dtype=np.float32))
    assert len(index.latent(0, 50)) == 3
    with pytest.raises(ValueError, match=r"image index 9 is outside the encoded set: pass 0 to 3"):
        index.latent(9)
    with pytest.raises(ValueError, match=r"k = 0 neighbours: pass k >= 1"):
        index.latent(0, 0)
    with pytest.raises(ValueError, match=r"metric 'manhattan' is not one of euclidean, cosine"):
        index.latent(0, 3, "manhattan")
    with pytest.raises(ValueError, match=r"no images: pass them"):
        index.pixel(0)


@pytest.fixture(scope="module")
def shipped():
    """The shipped fashion-mnist model's codes of the shipped test split, and the images."""
    if not (ROOT / "checkpoints" / "fashion-mnist" / "model.safetensors").is_file():
        pytest.skip("checkpoints/fashion-mnist is not there")
    from vae.checkpoint import load_checkpoint
    from vae.explore.sets import explore_set

    ck = load_checkpoint(ROOT / "checkpoints" / "fashion-mnist")
    data = ck.load_data("test")
    return explore_set(ck, data), data


def test_neighbours_of_the_shipped_test_codes_match_brute_force(shipped):
    enc, data = shipped
    images = data.images.numpy().reshape(len(data), -1)
    index = NeighbourIndex(enc.mu, data.images)
    for i in np.random.default_rng(3).choice(len(enc.mu), 12, replace=False):
        i = int(i)
        for metric in ("euclidean", "cosine"):
            want_idx, want_d = brute(enc.mu, i, 20, metric)
            same(index.latent(i, 20, metric), want_idx, want_d, rtol=1e-6, atol=1e-6)
        want_idx, want_d = brute(images, i, 20)
        same(index.pixel(i, 20), want_idx, want_d)


# -- search ---------------------------------------------------------------------------------------
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ZH = {"T-shirt/top": "T恤/上衣", "Shirt": "衬衫", "Sneaker": "运动鞋", "Ankle boot": "短靴", "Bag": "包"}


def plain(text: str, labels, names, translated=None, files=None) -> list[int]:
    """What search should find, by plain Python filtering."""
    t = " ".join(text.split()).lower()
    if t.lstrip("#").strip().isdigit():
        return [int(t.lstrip("#").strip())]
    out = []
    for i, c in enumerate(labels):
        name = names[c]
        if t in name.lower() or t in (translated or {}).get(name, "").lower() or (files and t in files[i].lower()):
            out.append(i)
    return out


@pytest.mark.parametrize("text", ["123", "#123", "# 7", "shirt", "SHIRT", "  boot ", "衬衫", "运动", "coat",
                                  "zebra", "t-shirt/", "a"])
def test_search_finds_what_plain_filtering_finds(text):
    labels = np.random.default_rng(4).integers(0, 10, 400)
    got = search(text, labels, NAMES, ZH)
    assert got.tolist() == plain(text, labels, NAMES, ZH)


def test_search_finds_file_names():
    labels = np.array([0, 1, 1, 0])
    files = ["cats/Tabby.png", "dogs/rex.jpg", "dogs/tabby-dog.png", "cats/felix.png"]
    assert search("TABBY", labels, ["cats", "dogs"], file_names=files).tolist() == [0, 2]
    assert search("dogs", labels, ["cats", "dogs"], file_names=files).tolist() == [1, 2]
    with pytest.raises(ValueError, match="3 file names for 4 images"):
        search("x", labels, ["cats", "dogs"], file_names=files[:3])


@pytest.mark.parametrize("text, message", [
    ("#400", "There is no image #400: the explore set's images are numbered 0 to 399."),
    ("   ", "Nothing to search for: type an image's number (0 to 399)"),
    ("x" * 101, "The search text is 101 characters long: type at most 100"),
])
def test_bad_search_text_says_what_to_type(text, message):
    with pytest.raises(SearchError) as e:
        search(text, np.zeros(400, int), NAMES)
    assert str(e.value).startswith(message), str(e.value)


def test_a_folder_data_set_keeps_its_file_names_and_search_finds_them(tmp_path, image_folder):
    from vae.data.datasets import load_dataset

    image_folder(tmp_path / "shapes", per_class=4)
    data = load_dataset(f"folder:{tmp_path / 'shapes'}", "train")
    assert len(data.files) == len(data) and data.subset(3).files == data.files[:3]
    assert all((tmp_path / "shapes" / f).is_file() for f in data.files)
    labels = data.labels.numpy()
    got = search("002.PNG", labels, data.class_names, file_names=data.files)
    assert got.tolist() == [i for i, f in enumerate(data.files) if "002.png" in f]
    assert len(got) >= 1 and all(data.class_names[labels[i]] in data.files[i] for i in got)


def test_the_map_draws_a_searchs_matches_over_the_faded_rest():
    from vae.explore.figures import latent_map

    rng = np.random.default_rng(5)
    coords, labels = rng.standard_normal((200, 2)), rng.integers(0, 3, 200)
    found = np.flatnonzero(labels == 1)
    fig = latent_map(coords, labels, ["a", "b", "c"], found=found, highlight=[3, 4])
    matches = [t for t in fig.data if t.name == "search matches"]
    assert len(matches) == 1 and len(matches[0].x) == len(found)
    np.testing.assert_allclose(matches[0].x, coords[found, 0])
    data = [t for t in fig.data if t.name in ("a", "b", "c")]
    assert data and all(t.marker.opacity < 0.2 for t in data)
    plain = latent_map(coords, labels, ["a", "b", "c"])
    assert all(t.marker.opacity > 0.5 for t in plain.data) and not [t for t in plain.data if t.name == "search matches"]


def test_the_all_set_of_a_folder_keeps_its_file_names(tmp_path, image_folder):
    from vae.data.datasets import load_dataset
    from vae.explore.sets import combine

    image_folder(tmp_path / "shapes", per_class=4)
    parts = [load_dataset(f"folder:{tmp_path / 'shapes'}", s) for s in ("test", "train")]
    assert combine(parts).files == parts[0].files + parts[1].files


def test_warm_up_builds_every_search_once_in_the_background():
    rng = np.random.default_rng(6)
    index = NeighbourIndex(rng.standard_normal((300, 8)).astype(np.float32), rng.random((300, 1, 6, 6)))
    thread = index.warm_up()
    assert index.warm_up() is thread  # only the first call starts anything
    thread.join(60)
    assert sorted(index._knn) == ["cosine", "euclidean", "pixel"]
    built = dict(index._knn)
    index.report(3, 5, "cosine")
    assert all(index._knn[s] is built[s] for s in built), "the searches are built once"
