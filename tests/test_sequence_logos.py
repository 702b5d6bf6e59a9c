"""Tests for rbmfast.plots.plot_sequence_logos: the PNG, the letter layout, the
site selection and bad input."""

import matplotlib.image
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch

from rbmfast import plots
from rbmfast.datasets.msa import ALPHABET
from rbmfast.plots import plot_sequence_logos

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RED = to_rgb(plots._CHEMISTRY_COLORS["D"])
BLUE = to_rgb(plots._CHEMISTRY_COLORS["K"])


def read_png(path):
    """Check the PNG signature and return RGB pixels as (height, width, 3)."""
    assert path.read_bytes()[:8] == PNG_MAGIC
    return matplotlib.image.imread(path)[:, :, :3]


def count_color(pixels, color, tolerance=0.05):
    return int(np.all(np.abs(pixels - np.array(color)) < tolerance, axis=2).sum())


def state(letter):
    return ALPHABET.index(letter)


@pytest.fixture
def weights():
    rng = np.random.default_rng(0)
    return 0.1 * rng.standard_normal((120, len(ALPHABET), 6))


def test_logos_write_png(tmp_path, weights):
    path = plot_sequence_logos(weights, ALPHABET, [0, 4], tmp_path / "logos.png",
                               titles=["first", "second"], title="Logos")
    assert path == tmp_path / "logos.png"
    pixels = read_png(path)
    assert 100 <= pixels.shape[0] <= 4000
    assert 100 <= pixels.shape[1] <= 4000
    # Nonblank: some pixels are far from white.
    assert (pixels.min(axis=2) < 0.5).sum() > 1000


def test_logos_letter_colors(tmp_path):
    only_acidic = np.zeros((5, len(ALPHABET), 1))
    only_acidic[2, state("D"), 0] = 1.0
    only_acidic[3, state("E"), 0] = 0.5
    red = read_png(plot_sequence_logos(only_acidic, ALPHABET, [0],
                                       tmp_path / "red.png"))
    assert count_color(red, RED) > 200
    assert count_color(red, BLUE) == 0

    basic_below = np.zeros((5, len(ALPHABET), 1))
    basic_below[1, state("K"), 0] = -1.0
    blue = read_png(plot_sequence_logos(basic_below, ALPHABET, [0],
                                        tmp_path / "blue.png"))
    assert count_color(blue, BLUE) > 200
    assert count_color(blue, RED) == 0


def test_logos_stack_order():
    # One site: D = +2 and A = +1 above zero, K = -3 and R = -1 below.
    site_weights = np.zeros((1, len(ALPHABET)))
    site_weights[0, [state("D"), state("A"), state("K"), state("R")]] = [2, 1, -3, -1]
    figure = Figure()
    axes = figure.add_subplot()
    plots._draw_logo(axes, site_weights, plots._LetterPaths(ALPHABET))
    extents = {}
    for patch in axes.patches:
        assert isinstance(patch, PathPatch)
        extents[to_rgb(patch.get_facecolor())] = patch.get_path().get_extents()
    hydrophobic = to_rgb(plots._CHEMISTRY_COLORS["A"])
    assert set(extents) == {RED, hydrophobic, BLUE}
    # The larger positive weight is on top, the larger negative one at the bottom.
    assert extents[hydrophobic].y0 == pytest.approx(0.0, abs=1e-9)
    assert extents[hydrophobic].y1 == pytest.approx(1.0)
    assert extents[RED].y0 == pytest.approx(1.0)
    assert extents[RED].y1 == pytest.approx(3.0)
    # K and R are both blue, one compound path from -4 to 0.
    assert extents[BLUE].y0 == pytest.approx(-4.0)
    assert extents[BLUE].y1 == pytest.approx(0.0, abs=1e-9)
    assert extents[RED].x0 == pytest.approx(-plots._LOGO_LETTER_WIDTH / 2)
    assert extents[RED].x1 == pytest.approx(plots._LOGO_LETTER_WIDTH / 2)
    assert axes.get_ylim()[0] < -4.0
    assert axes.get_ylim()[1] > 3.0


def test_logos_tiny_letters_skipped():
    site_weights = np.zeros((2, len(ALPHABET)))
    site_weights[0, state("D")] = 1.0
    site_weights[1, state("K")] = 1e-6
    figure = Figure()
    axes = figure.add_subplot()
    plots._draw_logo(axes, site_weights, plots._LetterPaths(ALPHABET))
    colors = [to_rgb(patch.get_facecolor()) for patch in axes.patches]
    assert colors == [RED]


def test_logo_sites_largest_norms_in_order():
    unit_weights = np.zeros((8, 3))
    unit_weights[6] = [3, 0, 0]
    unit_weights[1] = [0, -2, 0]
    unit_weights[4] = [1, 1, 0]
    unit_weights[2] = [1, 1, 0]
    np.testing.assert_array_equal(plots._logo_sites(unit_weights, 2), [1, 6])
    # Sites 2 and 4 tie; the lower index wins.
    np.testing.assert_array_equal(plots._logo_sites(unit_weights, 3), [1, 2, 6])
    np.testing.assert_array_equal(plots._logo_sites(unit_weights, 8), np.arange(8))


def test_logos_max_sites_width(tmp_path, weights):
    narrow = read_png(plot_sequence_logos(weights, ALPHABET, [0], tmp_path / "n.png",
                                          max_sites=10))
    wide = read_png(plot_sequence_logos(weights, ALPHABET, [0], tmp_path / "w.png",
                                        max_sites=60))
    all_sites = read_png(plot_sequence_logos(weights[:60], ALPHABET, [0],
                                             tmp_path / "a.png", max_sites=500))
    assert wide.shape[1] > narrow.shape[1]
    assert all_sites.shape[1] == wide.shape[1]


def test_logos_rows_per_unit(tmp_path, weights):
    one = read_png(plot_sequence_logos(weights, ALPHABET, [0], tmp_path / "1.png"))
    three = read_png(plot_sequence_logos(weights, ALPHABET, [0, 1, 2],
                                         tmp_path / "3.png"))
    assert three.shape[0] > 2 * one.shape[0]


def test_logos_zero_unit_and_site_labels(tmp_path):
    weights = np.zeros((4, 3, 2), dtype=np.float32)
    weights[1, 2, 1] = 0.5
    path = plot_sequence_logos(weights, "-AC", [0, 1], tmp_path / "z.png",
                               site_labels=["c10", "c11", "c14", "c20"])
    assert read_png(path).shape[0] > 100


@pytest.mark.parametrize(("weights", "alphabet", "units", "kwargs", "message"), [
    (np.zeros((4, 21)), ALPHABET, [0], {}, "weights must be 3-D"),
    (np.zeros((0, 21, 2)), ALPHABET, [0], {}, "must not be empty"),
    (np.full((4, 21, 2), "a"), ALPHABET, [0], {}, "real numbers"),
    (np.zeros((4, 20, 2)), ALPHABET, [0], {},
     "alphabet has 21 characters but weights has 20 states"),
    (np.zeros((4, 3, 2)), "-AA", [0], {}, "repeats a character"),
    (np.zeros((4, 3, 2)), "-A ", [0], {}, "cannot be drawn"),
    (np.zeros((4, 3, 2)), ["-", "A", "C"], [0], {}, "alphabet must be a string"),
    (np.zeros((4, 21, 2)), ALPHABET, [2], {}, r"unit_indices \[2\] are outside"),
    (np.zeros((4, 21, 2)), ALPHABET, [], {}, "non-empty"),
    (np.zeros((4, 21, 2)), ALPHABET, [0], {"max_sites": 0}, "max_sites must be"),
    (np.zeros((4, 21, 2)), ALPHABET, [0], {"max_sites": True}, "max_sites must be"),
    (np.zeros((4, 21, 2)), ALPHABET, [0], {"site_labels": ["a"]},
     "site_labels has 1 entries but weights has 4 sites"),
    (np.zeros((4, 21, 2)), ALPHABET, [0, 1], {"titles": ["a"]},
     "titles has 1 entries"),
])
def test_logos_bad_input(tmp_path, weights, alphabet, units, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_sequence_logos(weights, alphabet, units, tmp_path / "bad.png", **kwargs)
    assert not (tmp_path / "bad.png").exists()


def test_logos_non_finite(tmp_path):
    weights = np.zeros((4, 21, 2))
    weights[1, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity in the selected units"):
        plot_sequence_logos(weights, ALPHABET, [1], tmp_path / "nan.png")
    # An unselected unit may contain NaN.
    plot_sequence_logos(weights, ALPHABET, [0], tmp_path / "ok.png")
