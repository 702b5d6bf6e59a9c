"""Tests for rbmfast.plots: each figure is a readable PNG, and bad input raises."""

import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from rbmfast.plots import (
    plot_image_grid,
    plot_input_histograms,
    plot_training_curves,
    plot_weight_images,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_png(path):
    """Check the PNG signature and return the image as (height, width, channels)."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return matplotlib.image.imread(path)


def assert_plausible_size(pixels, min_side=100, max_side=4000):
    height, width = pixels.shape[:2]
    assert min_side <= height <= max_side
    assert min_side <= width <= max_side


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def histogram_data(rng):
    labels = rng.integers(0, 3, size=90)
    inputs = rng.standard_normal((90, 8)) + labels[:, None]
    return inputs, labels


# --------------------------------------------------------------------------------------
# plot_input_histograms
# --------------------------------------------------------------------------------------


def test_histograms_write_png(tmp_path, histogram_data):
    inputs, labels = histogram_data
    path = plot_input_histograms(
        inputs,
        labels,
        [0, 3, 7],
        tmp_path / "hist.png",
        unit_names=["a", "b", "c"],
        class_names=["zero", "one", "two"],
        bins=10,
        title="Inputs",
    )
    assert path == tmp_path / "hist.png"
    assert_plausible_size(read_png(path))


def test_histograms_grid_wraps(tmp_path, histogram_data):
    inputs, labels = histogram_data
    one_path = plot_input_histograms(inputs, labels, [0], tmp_path / "1.png")
    eight_path = plot_input_histograms(inputs, labels, range(8), tmp_path / "8.png")
    one_row = read_png(one_path)
    two_rows = read_png(eight_path)
    assert two_rows.shape[0] > one_row.shape[0]
    assert two_rows.shape[1] > one_row.shape[1]


def test_histograms_constant_unit(tmp_path):
    inputs = np.ones((6, 2))
    labels = np.array([0, 0, 1, 1, 2, 2])
    path = plot_input_histograms(inputs, labels, [1], tmp_path / "constant.png")
    assert_plausible_size(read_png(path))


def test_histograms_many_classes(tmp_path, rng):
    labels = np.arange(60) % 30
    inputs = rng.standard_normal((60, 2))
    path = plot_input_histograms(inputs, labels, [0], tmp_path / "classes.png")
    assert_plausible_size(read_png(path))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inputs": np.ones(90)}, "inputs must be 2-D"),
        ({"inputs": np.ones((90, 8), dtype=complex)}, "real numbers"),
        ({"labels": np.zeros(89, dtype=int)}, r"labels must have shape \(90,\)"),
        ({"labels": np.zeros(90)}, "labels must be integers"),
        ({"unit_indices": [8]}, r"unit_indices \[8\] are outside \[0, 8\)"),
        ({"unit_indices": [-1]}, "outside"),
        ({"unit_indices": []}, "non-empty"),
        ({"unit_indices": [0.5]}, "unit_indices must be integers"),
        ({"unit_names": ["only one"]}, "unit_names has 1 entries"),
        ({"class_names": ["zero", "one"]}, r"labels \[2\] have no entry"),
        ({"bins": 0}, "bins must be a positive integer"),
        ({"bins": 2.5}, "bins must be a positive integer"),
    ],
)
def test_histograms_bad_input(tmp_path, histogram_data, change, message):
    inputs, labels = histogram_data
    arguments = {"inputs": inputs, "labels": labels, "unit_indices": [0, 1]}
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        plot_input_histograms(path=tmp_path / "bad.png", **arguments)
    assert not (tmp_path / "bad.png").exists()


def test_histograms_reject_nan(tmp_path, histogram_data):
    inputs, labels = histogram_data
    inputs = inputs.copy()
    inputs[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        plot_input_histograms(inputs, labels, [1], tmp_path / "nan.png")


def test_histograms_ignore_nan_elsewhere(tmp_path, histogram_data):
    inputs, labels = histogram_data
    inputs = inputs.copy()
    inputs[5, 1] = np.nan
    path = plot_input_histograms(inputs, labels, [0], tmp_path / "ok.png")
    assert path.exists()


# --------------------------------------------------------------------------------------
# plot_image_grid
# --------------------------------------------------------------------------------------


def test_image_grid_write_png(tmp_path, rng):
    images = rng.random((12, 28 * 28))
    path = plot_image_grid(
        images,
        tmp_path / "grid.png",
        (28, 28),
        row_labels=["0", "1", "2"],
        title="Samples",
    )
    pixels = read_png(path)
    assert_plausible_size(pixels)
    # Four columns of 28-pixel images are wider than three rows are tall.
    assert pixels.shape[1] > pixels.shape[0]


def test_image_grid_default_rows(tmp_path, rng):
    path = plot_image_grid(rng.random((10, 6)), tmp_path / "grid.png", (2, 3))
    assert_plausible_size(read_png(path), min_side=50)


def test_image_grid_single_image(tmp_path):
    path = plot_image_grid(np.zeros((1, 4)), tmp_path / "one.png", (2, 2), cmap="gray")
    assert_plausible_size(read_png(path), min_side=50)


def test_image_grid_tall_rows(tmp_path, rng):
    images = rng.random((20, 16))
    wide = read_png(plot_image_grid(images, tmp_path / "w.png", (4, 4), n_rows=2))
    tall = read_png(plot_image_grid(images, tmp_path / "t.png", (4, 4), n_rows=10))
    assert tall.shape[0] > wide.shape[0]
    assert wide.shape[1] > tall.shape[1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"images": np.ones((4, 10))}, "10 columns but image_shape"),
        ({"images": np.ones(16)}, "images must be 2-D"),
        ({"images": np.ones((0, 16))}, "must not be empty"),
        ({"image_shape": (4,)}, "image_shape must be"),
        ({"image_shape": (4, 0)}, "image_shape must be"),
        ({"image_shape": (4.0, 4)}, "image_shape must be"),
        ({"n_rows": 0}, r"n_rows must be an integer in \[1, 4\]"),
        ({"n_rows": 5}, r"n_rows must be an integer in \[1, 4\]"),
        ({"n_rows": 2, "row_labels": ["a"]}, "row_labels has 1 entries"),
        ({"cmap": "no-such-map"}, "not a registered matplotlib colormap"),
    ],
)
def test_image_grid_bad_input(tmp_path, change, message):
    arguments = {"images": np.ones((4, 16)), "image_shape": (4, 4)}
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        plot_image_grid(path=tmp_path / "bad.png", **arguments)


# --------------------------------------------------------------------------------------
# plot_weight_images
# --------------------------------------------------------------------------------------


def test_weight_images_write_png(tmp_path, rng):
    weights = rng.standard_normal((28 * 28, 15))
    path = plot_weight_images(
        weights,
        tmp_path / "weights.png",
        (28, 28),
        unit_indices=[0, 4, 14],
        titles=["a", "b", "c"],
        title="Weights",
    )
    assert_plausible_size(read_png(path))


def test_weight_images_default_units(tmp_path, rng):
    weights = rng.standard_normal((12, 25))
    few = read_png(plot_weight_images(weights, tmp_path / "f.png", (3, 4), [0, 1]))
    every = read_png(plot_weight_images(weights, tmp_path / "a.png", (3, 4)))
    assert every.shape[0] > few.shape[0]


def test_weight_images_zero_column(tmp_path):
    weights = np.zeros((4, 2))
    path = plot_weight_images(weights, tmp_path / "zero.png", (2, 2))
    assert_plausible_size(read_png(path))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": np.ones((15, 3))}, "weights has 15 rows but image_shape"),
        ({"weights": np.ones(16)}, "weights must be 2-D"),
        ({"image_shape": (2, 2, 4)}, "image_shape must be"),
        ({"unit_indices": [3]}, r"unit_indices \[3\] are outside \[0, 3\)"),
        ({"titles": ["a", "b"]}, "titles has 2 entries but 3 units"),
        ({"weights": np.full((16, 3), np.inf)}, "NaN or infinity"),
    ],
)
def test_weight_images_bad_input(tmp_path, change, message):
    arguments = {"weights": np.ones((16, 3)), "image_shape": (4, 4)}
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        plot_weight_images(path=tmp_path / "bad.png", **arguments)


# --------------------------------------------------------------------------------------
# plot_training_curves
# --------------------------------------------------------------------------------------


def sample_history():
    return {
        "epoch": [1, 2, 3, 4],
        "pseudo_likelihood": [-110.0, -100.5, None, -95.25],
        "readout_free": [0.5, 0.7, 0.8, float("nan")],
    }


def test_curves_write_png(tmp_path):
    path = plot_training_curves(sample_history(), tmp_path / "curves.png")
    assert_plausible_size(read_png(path))


def test_curves_selected_keys(tmp_path):
    history = sample_history()
    both_path = plot_training_curves(history, tmp_path / "both.png")
    one_path = plot_training_curves(history, tmp_path / "one.png", ["readout_free"])
    assert read_png(both_path).shape[0] > read_png(one_path).shape[0]


def test_curves_numpy_history(tmp_path):
    history = {"epoch": np.arange(3), "loss": np.array([3.0, 2.0, 1.0])}
    path = plot_training_curves(history, tmp_path / "numpy.png")
    assert_plausible_size(read_png(path))


@pytest.mark.parametrize(
    ("history", "keys", "message"),
    [
        ({"loss": [1.0]}, None, "history has no 'epoch' key"),
        ({"epoch": [1, 2]}, None, "no metric to plot"),
        ({"epoch": [1, 2], "loss": [1.0]}, None, r"history\['loss'\] has 1 values"),
        ({"epoch": [], "loss": []}, None, "is empty"),
        ({"epoch": [1], "loss": ["high"]}, None, "must contain numbers or None"),
        ({"epoch": [1], "loss": [[1.0, 2.0]]}, None, "must be a flat sequence"),
        ({"epoch": [1], "loss": [1.0]}, ["missing"], "history has no key 'missing'"),
        ({"epoch": [1], "loss": [1.0]}, ["epoch"], "must not contain 'epoch'"),
        ({"epoch": [1], "loss": [1.0]}, [], "no metric to plot"),
        ([("epoch", [1])], None, "history must be a mapping"),
    ],
)
def test_curves_bad_input(tmp_path, history, keys, message):
    with pytest.raises(ValueError, match=message):
        plot_training_curves(history, tmp_path / "bad.png", keys)


def test_plots_leave_pyplot_unloaded(tmp_path):
    # Importing pyplot would select a backend and create global state in the caller.
    script = (
        "import sys, numpy as np\n"
        "from rbmfast.plots import plot_image_grid\n"
        f"plot_image_grid(np.zeros((2, 4)), {str(tmp_path / 'g.png')!r}, (2, 2))\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
