"""Write PNG figures for training reports.

Every function builds a ``matplotlib.figure.Figure`` directly and saves it with
``Figure.savefig``. No pyplot state is created and no backend is selected, so the
functions work in headless processes and do not change the caller's matplotlib
configuration. Files are always written as PNG at 100 dpi, whatever the suffix of
``path``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextPath
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Affine2D

__all__ = [
    "plot_image_grid",
    "plot_input_histograms",
    "plot_sequence_logos",
    "plot_training_curves",
    "plot_weight_images",
]

DPI = 100
MAX_HISTOGRAM_COLUMNS = 6
MAX_WEIGHT_COLUMNS = 10
DEFAULT_LOGO_SITES = 40

# Display width of one image in the mosaic figures, in inches.
_CELL_INCHES = 0.6
# Font size of the per-image titles of plot_weight_images, in points.
_WEIGHT_TITLE_POINTS = 6
# Color of the gaps between mosaic cells and of unused cells.
_GAP_COLOR = "lightgray"
_DIVERGING_COLORMAP = "RdBu_r"

# Sequence logos: amino acids colored by side-chain chemistry.  Letters
# outside these groups, the gap '-' included, are drawn in _OTHER_LETTER_COLOR.
_CHEMISTRY_COLORS = {
    **dict.fromkeys("DE", "#d62728"),  # acidic
    **dict.fromkeys("HKR", "#1f4fd6"),  # basic
    **dict.fromkeys("CGSTY", "#2ca02c"),  # polar
    **dict.fromkeys("NQ", "#8e44ad"),  # amides
    **dict.fromkeys("AFILMPVW", "#111111"),  # hydrophobic
}
_OTHER_LETTER_COLOR = "#8c8c8c"
# Width of one site of a logo and height of one logo row, in inches.
_LOGO_SITE_INCHES = 0.22
_LOGO_ROW_INCHES = 1.9
# Fraction of the site width that a letter fills.
_LOGO_LETTER_WIDTH = 0.9
# Letters shorter than this fraction of the y range are skipped: at the
# figure's size they are below one pixel.
_LOGO_MIN_LETTER_FRACTION = 1e-3
_LOGO_FONT = FontProperties(family="DejaVu Sans", weight="bold")


# --------------------------------------------------------------------------------------
# Public figures
# --------------------------------------------------------------------------------------


def plot_input_histograms(
    inputs: np.ndarray,
    labels: np.ndarray,
    unit_indices: Sequence[int],
    path: str | os.PathLike[str],
    unit_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    bins: int = 40,
    title: str | None = None,
) -> Path:
    """Plot per-class histograms of the inputs to selected hidden units.

    Each selected unit gets one subplot, laid out in a grid of at most
    `MAX_HISTOGRAM_COLUMNS` columns. A subplot overlays one step histogram per class
    present in ``labels``, normalized to unit area (``density=True``), over bin edges
    shared by all classes of that unit.

    Parameters
    ----------
    inputs : numpy.ndarray, shape (n_samples, n_hidden), float
        Total input to each hidden unit (``v @ W + c``), all finite.
    labels : numpy.ndarray, shape (n_samples,), int
        Class of each sample.
    unit_indices : sequence of int
        Hidden units to plot, each in ``[0, n_hidden)``. At least one.
    path : str or os.PathLike
        PNG file to write.
    unit_names : sequence of str, optional
        Subplot titles, one per entry of ``unit_indices``. Default ``"unit <index>"``.
    class_names : sequence of str, optional
        Legend entries indexed by class label, so ``class_names[k]`` names label
        ``k``. Labels must then be in ``[0, len(class_names))``. Default: the label
        values.
    bins : int, default 40
        Number of histogram bins per unit.
    title : str, optional
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ValueError
        If an array has the wrong shape or dtype, ``inputs`` contains NaN or infinity,
        an index or label is out of range, or a name list has the wrong length.
    """
    inputs = _as_float_matrix("inputs", inputs)
    labels = _as_labels(labels, inputs.shape[0])
    units = _as_unit_indices(unit_indices, inputs.shape[1])
    if not np.all(np.isfinite(inputs[:, units])):
        raise ValueError(
            "inputs contains NaN or infinity in the selected units; "
            "histograms need finite values"
        )
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    titles = _names_or_default("unit_names", unit_names, units, "unit {}")
    classes = np.unique(labels)
    legend_names = _class_legend_names(classes, class_names)
    colors = _class_colors(len(classes))

    n_columns = min(MAX_HISTOGRAM_COLUMNS, len(units))
    n_rows = math.ceil(len(units) / n_columns)
    # the title is centred over the whole figure, the legend included, so it
    # needs room on both sides of its centre (about 0.1 inch a character)
    width = 2.6 * n_columns + 1.6
    if title is not None:
        width = max(width, 0.1 * len(title) + 3.2)
    figure = Figure(
        figsize=(width, 2.1 * n_rows + 0.4),
        dpi=DPI,
        layout="constrained",
    )
    axes_grid = figure.subplots(n_rows, n_columns, squeeze=False)
    for position, axes in enumerate(axes_grid.flat):
        if position >= len(units):
            axes.set_visible(False)
            continue
        column = inputs[:, units[position]]
        edges = np.histogram_bin_edges(column, bins=int(bins))
        for class_label, name, color in zip(classes, legend_names, colors):
            axes.hist(
                column[labels == class_label],
                bins=edges,
                density=True,
                histtype="step",
                color=color,
                label=name,
            )
        axes.set_title(titles[position], fontsize="medium")
        axes.tick_params(labelsize="small")
    handles, legend_labels = axes_grid.flat[0].get_legend_handles_labels()
    figure.legend(handles, legend_labels, loc="outside right upper", fontsize="small")
    if title is not None:
        figure.suptitle(title)
    return _save(figure, path)


def plot_image_grid(
    images: np.ndarray,
    path: str | os.PathLike[str],
    image_shape: Sequence[int],
    n_rows: int | None = None,
    row_labels: Sequence[str] | None = None,
    cmap: str | Colormap = "gray_r",
    title: str | None = None,
) -> Path:
    """Plot images as a grid, filled row by row.

    Parameters
    ----------
    images : numpy.ndarray, shape (n_images, height * width), float
        Flattened images (row-major) with values in ``[0, 1]``. Values outside that
        range are shown with the color of the nearest end of the colormap.
    path : str or os.PathLike
        PNG file to write.
    image_shape : sequence of int
        ``(height, width)`` of one image.
    n_rows : int, optional
        Number of grid rows, in ``[1, n_images]``. Default ``len(row_labels)`` if
        ``row_labels`` is given, else ``ceil(sqrt(n_images))``. The number of columns
        is ``ceil(n_images / n_rows)``. Cells after the last image are left blank.
    row_labels : sequence of str, optional
        One label per grid row, shown left of the row, for example the class that was
        clamped while sampling that row.
    cmap : str or matplotlib.colors.Colormap, default "gray_r"
        Colormap for the pixel values, with 0 and 1 at its ends.
    title : str, optional
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ValueError
        If ``images`` is not 2-D with ``height * width`` columns and at least one row,
        ``image_shape`` is invalid, ``n_rows`` is out of range, or ``row_labels``
        does not have ``n_rows`` entries.
    """
    height, width = _as_image_shape(image_shape)
    images = _as_float_matrix("images", images)
    _check_width("images", images, height, width)
    n_images = images.shape[0]
    if n_rows is None and row_labels is not None:
        n_rows = len(row_labels)
    elif n_rows is None:
        n_rows = math.isqrt(n_images - 1) + 1  # ceil(sqrt(n_images))
    n_rows = _as_row_count(n_rows, n_images)
    if row_labels is not None and len(row_labels) != n_rows:
        raise ValueError(
            f"row_labels has {len(row_labels)} entries but the grid has {n_rows} rows; "
            "give one label per row"
        )
    n_columns = math.ceil(n_images / n_rows)
    gap = 1
    mosaic = _tile(images.reshape(n_images, height, width), n_columns, n_rows, gap, gap)

    label_inches = 0.0 if row_labels is None else 0.8
    figure = _mosaic_figure(mosaic, width, label_inches, title)
    axes = figure.add_subplot()
    axes.imshow(
        mosaic,
        cmap=_with_gap_color(cmap),
        vmin=0.0,
        vmax=1.0,
        interpolation="nearest",
    )
    _hide_frame(axes)
    if row_labels is not None:
        # Pixel centers are at integer data coordinates.
        centers = [row * (height + gap) + (height - 1) / 2 for row in range(n_rows)]
        axes.set_yticks(centers, [str(label) for label in row_labels])
        axes.tick_params(axis="y", length=0, labelsize="small")
    if title is not None:
        figure.suptitle(title)
    return _save(figure, path)


def plot_weight_images(
    weights: np.ndarray,
    path: str | os.PathLike[str],
    image_shape: Sequence[int],
    unit_indices: Sequence[int] | None = None,
    titles: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Plot the weights of selected hidden units as images.

    Column ``j`` of ``weights`` is reshaped to ``image_shape`` and divided by its
    maximum absolute value, then drawn with a diverging colormap from -1 (blue) to 1
    (red), so zero is near-white in every image. This is the same picture as a per-image
    symmetric scale with ``vmax = max |w|``. Images are laid out in a grid of at most
    `MAX_WEIGHT_COLUMNS` columns with one shared colorbar.

    Parameters
    ----------
    weights : numpy.ndarray, shape (n_visible, n_hidden), float
        Weight matrix, all finite, with ``n_visible == height * width``.
    path : str or os.PathLike
        PNG file to write.
    image_shape : sequence of int
        ``(height, width)`` of one image.
    unit_indices : sequence of int, optional
        Hidden units to plot, each in ``[0, n_hidden)``. Default: all units.
    titles : sequence of str, optional
        One title per plotted unit, written above its image. Default ``"<index>"``.
    title : str, optional
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ValueError
        If ``weights`` is not 2-D with ``height * width`` rows, contains NaN or
        infinity, ``image_shape`` is invalid, an index is out of range, or
        ``titles`` has the wrong length.
    """
    height, width = _as_image_shape(image_shape)
    weights = _as_float_matrix("weights", weights)
    if weights.shape[0] != height * width:
        raise ValueError(
            f"weights has {weights.shape[0]} rows but image_shape {(height, width)} "
            f"has {height * width} pixels; pass weights of shape "
            "(n_visible, n_hidden) with n_visible = height * width"
        )
    if unit_indices is None:
        unit_indices = range(weights.shape[1])
    units = _as_unit_indices(unit_indices, weights.shape[1])
    selected = weights[:, units].T
    if not np.all(np.isfinite(selected)):
        raise ValueError("weights contains NaN or infinity in the selected units")
    labels = _names_or_default("titles", titles, units, "{}")

    scales = np.max(np.abs(selected), axis=1, keepdims=True)
    # An all-zero column stays zero instead of dividing by zero.
    scaled = selected / np.where(scales > 0, scales, 1.0)
    n_columns = min(MAX_WEIGHT_COLUMNS, len(units))
    n_rows = math.ceil(len(units) / n_columns)
    # Each row of images has a gap above it tall enough for the per-image titles.
    inches_per_pixel = _CELL_INCHES / width
    title_pixels = math.ceil(1.6 * _WEIGHT_TITLE_POINTS / 72 / inches_per_pixel)
    mosaic = _tile(
        scaled.reshape(len(units), height, width),
        n_columns,
        n_rows,
        row_gap=title_pixels,
        column_gap=1,
        leading_row_gap=True,
    )

    figure = _mosaic_figure(mosaic, width, 0.0, title, colorbar=True)
    axes = figure.add_subplot()
    image = axes.imshow(
        mosaic,
        cmap=_with_gap_color(_DIVERGING_COLORMAP),
        vmin=-1.0,
        vmax=1.0,
        interpolation="nearest",
    )
    _hide_frame(axes)
    for position, label in enumerate(labels):
        row, column = divmod(position, n_columns)
        # The text sits in the gap above its image, centered on it. Pixel centers
        # are at integer data coordinates, so the image's top edge is at top - 0.5.
        top = row * (height + title_pixels) + title_pixels
        axes.text(
            column * (width + 1) + (width - 1) / 2,
            top - 0.5,
            label,
            ha="center",
            va="bottom",
            fontsize=_WEIGHT_TITLE_POINTS,
        )
    colorbar = figure.colorbar(image, ax=axes, shrink=0.8)
    colorbar.set_label("w / max |w| of each image", fontsize="small")
    if title is not None:
        figure.suptitle(title)
    return _save(figure, path)


def plot_training_curves(
    history: Mapping[str, Sequence[float | None]],
    path: str | os.PathLike[str],
    keys: Sequence[str] | None = None,
) -> Path:
    """Plot training metrics against the epoch, one subplot per metric.

    Parameters
    ----------
    history : Mapping[str, sequence of float or None]
        Equal-length sequences, one of them under ``"epoch"``, for example
        ``{"epoch": [1, 2], "pseudo_likelihood": [-95.1, -90.4]}``. ``None`` and NaN
        entries (a metric not computed at that epoch) leave gaps in the line.
    path : str or os.PathLike
        PNG file to write.
    keys : sequence of str, optional
        Metrics to plot, in order. Default: every key except ``"epoch"``.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ValueError
        If ``"epoch"`` or a requested key is missing, no metric is left to plot, the
        sequences differ in length or are empty, or a value is not a number.
    """
    if not isinstance(history, Mapping):
        raise ValueError(
            f"history must be a mapping of name to sequence, "
            f"got {type(history).__name__}"
        )
    if "epoch" not in history:
        raise ValueError(
            f"history has no 'epoch' key (keys: {sorted(history)}); "
            "add the epoch numbers under 'epoch'"
        )
    keys = _training_keys(history, keys)
    epochs = _as_series(history, "epoch")
    if epochs.size == 0:
        raise ValueError("history['epoch'] is empty; train for at least one epoch")
    series = {key: _as_series(history, key) for key in keys}
    for key, values in series.items():
        if values.shape != epochs.shape:
            raise ValueError(
                f"history[{key!r}] has {values.size} values but history['epoch'] "
                f"has {epochs.size}; every sequence needs one value per epoch"
            )

    figure = Figure(figsize=(6.4, 1.9 * len(keys) + 0.6), dpi=DPI, layout="constrained")
    axes_column = figure.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
    for axes, key in zip(axes_column, keys):
        axes.plot(epochs, series[key], marker="o", markersize=3)
        axes.set_ylabel(key, fontsize="small")
        axes.grid(True, alpha=0.3)
    axes_column[-1].set_xlabel("epoch")
    if np.all(epochs == np.round(epochs)):
        axes_column[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    return _save(figure, path)


def plot_sequence_logos(
    weights: np.ndarray,
    alphabet: str,
    unit_indices: Sequence[int],
    path: str | os.PathLike[str],
    max_sites: int = DEFAULT_LOGO_SITES,
    site_labels: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Plot the Potts weights of selected hidden units as sequence logos.

    Each selected unit j gets one row. At each shown site i, the letters of the
    states with positive weight ``W[i, a, j]`` are stacked upwards from zero, and
    those with negative weight downwards. Each letter is as tall as ``|W[i, a, j]|``,
    and the largest weights sit farthest from the zero line. Letters are colored by
    amino-acid chemistry.  Acidic D, E are red, basic H, K, R blue, polar
    C, G, S, T, Y green, amides N, Q purple and hydrophobic A, F, I, L, M, P, V, W
    black.  Any other character, the gap included, is grey. Letters shorter
    than 0.1% of the row's y range are not drawn.

    When a unit has more than ``max_sites`` sites, only the ``max_sites`` sites with
    the largest weight norm ``sqrt(sum_a W[i, a, j]^2)`` are shown, chosen per unit
    (ties to the lower site index) and drawn in alignment order. The x labels give
    the site index, or ``site_labels[i]``.

    Parameters
    ----------
    weights : numpy.ndarray, shape (n_sites, n_states, n_hidden), float
        Potts weights, finite in the selected units.
    alphabet : str
        ``alphabet[a]`` is the letter of state ``a``; one distinct, printable,
        non-space character per state, for example
        ``rbmfast.datasets.msa.ALPHABET``.
    unit_indices : sequence of int
        Hidden units to plot, each in ``[0, n_hidden)``. At least one.
    path : str or os.PathLike
        PNG file to write.
    max_sites : int, default `DEFAULT_LOGO_SITES`
        Maximum number of sites per logo, at least 1.
    site_labels : sequence of str, optional
        One label per site, for example the columns of the original alignment that
        ``filter_gaps`` kept. Default: the site index.
    titles : sequence of str, optional
        One title per plotted unit. Default ``"unit <index>"``.
    title : str, optional
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ValueError
        If ``weights`` is not a non-empty 3-D real array, contains NaN or infinity
        in the selected units, the alphabet does not have one valid character per
        state, an index is out of range, ``max_sites`` is not a positive integer, or
        ``site_labels`` or ``titles`` has the wrong length.
    """
    weights = _as_potts_weights(weights)
    n_sites, n_states, n_hidden = weights.shape
    _check_logo_alphabet(alphabet, n_states)
    units = _as_unit_indices(unit_indices, n_hidden)
    if isinstance(max_sites, bool) or not isinstance(max_sites, (int, np.integer)) \
            or max_sites < 1:
        raise ValueError(f"max_sites must be a positive integer, got {max_sites!r}")
    selected = weights[:, :, units]
    if not np.all(np.isfinite(selected)):
        raise ValueError("weights contains NaN or infinity in the selected units")
    if site_labels is None:
        site_names = [str(site) for site in range(n_sites)]
    elif len(site_labels) != n_sites:
        raise ValueError(
            f"site_labels has {len(site_labels)} entries but weights has {n_sites} "
            "sites; give one label per site"
        )
    else:
        site_names = [str(label) for label in site_labels]
    row_titles = _names_or_default("titles", titles, units, "unit {}")

    n_shown = min(int(max_sites), n_sites)
    figure = Figure(
        figsize=(max(4.0, _LOGO_SITE_INCHES * n_shown + 1.2),
                 _LOGO_ROW_INCHES * len(units) + (0.4 if title is not None else 0.1)),
        dpi=DPI,
        layout="constrained",
    )
    axes_column = figure.subplots(len(units), 1, squeeze=False)[:, 0]
    letters = _LetterPaths(alphabet)
    for row, axes in enumerate(axes_column):
        unit_weights = selected[:, :, row]
        sites = _logo_sites(unit_weights, n_shown)
        _draw_logo(axes, unit_weights[sites], letters)
        axes.set_xticks(range(len(sites)), [site_names[site] for site in sites])
        axes.tick_params(axis="x", labelrotation=90, labelsize="x-small", length=2)
        axes.tick_params(axis="y", labelsize="small")
        axes.set_ylabel("weight", fontsize="small")
        axes.set_title(row_titles[row], fontsize="medium")
    axes_column[-1].set_xlabel("site")
    if title is not None:
        figure.suptitle(title)
    return _save(figure, path)


# --------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------


def _as_float_matrix(name: str, array: np.ndarray) -> np.ndarray:
    matrix = np.asarray(array)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {matrix.shape}")
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {matrix.shape}")
    if matrix.dtype.kind not in "biuf":
        raise ValueError(f"{name} must contain real numbers, got dtype {matrix.dtype}")
    return matrix.astype(np.float64, copy=False)


def _as_potts_weights(weights: np.ndarray) -> np.ndarray:
    array = np.asarray(weights)
    if array.ndim != 3:
        raise ValueError(
            f"weights must be 3-D (n_sites, n_states, n_hidden), got shape "
            f"{array.shape}"
        )
    if 0 in array.shape:
        raise ValueError(f"weights must not be empty, got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"weights must contain real numbers, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _check_logo_alphabet(alphabet: str, n_states: int) -> None:
    if not isinstance(alphabet, str):
        raise ValueError(f"alphabet must be a string, got {type(alphabet).__name__}")
    if len(alphabet) != n_states:
        raise ValueError(
            f"alphabet has {len(alphabet)} characters but weights has {n_states} "
            "states; give one character per state"
        )
    if len(set(alphabet)) != len(alphabet):
        raise ValueError(f"alphabet {alphabet!r} repeats a character")
    invalid = [c for c in alphabet if c.isspace() or not c.isprintable()]
    if invalid:
        raise ValueError(
            f"alphabet contains {invalid}, which cannot be drawn as letters"
        )


def _as_labels(labels: np.ndarray, n_samples: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"labels must have shape ({n_samples},) to match inputs, "
            f"got {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    return labels


def _as_unit_indices(unit_indices: Sequence[int], n_hidden: int) -> np.ndarray:
    units = np.asarray(unit_indices)
    if units.ndim != 1 or units.size == 0:
        raise ValueError(
            f"unit_indices must be a non-empty 1-D sequence, got shape {units.shape}"
        )
    if units.dtype.kind not in "iu":
        raise ValueError(f"unit_indices must be integers, got dtype {units.dtype}")
    out_of_range = units[(units < 0) | (units >= n_hidden)]
    if out_of_range.size:
        raise ValueError(
            f"unit_indices {out_of_range.tolist()} are outside [0, {n_hidden}), "
            f"the range of hidden units"
        )
    return units


def _as_image_shape(image_shape: Sequence[int]) -> tuple[int, int]:
    shape = tuple(image_shape)
    valid = len(shape) == 2 and all(
        isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size > 0
        for size in shape
    )
    if not valid:
        raise ValueError(
            f"image_shape must be (height, width) with two positive integers, "
            f"got {image_shape!r}"
        )
    return int(shape[0]), int(shape[1])


def _check_width(name: str, matrix: np.ndarray, height: int, width: int) -> None:
    if matrix.shape[1] != height * width:
        raise ValueError(
            f"{name} has {matrix.shape[1]} columns but image_shape {(height, width)} "
            f"has {height * width} pixels"
        )


def _as_row_count(n_rows: object, n_images: int) -> int:
    valid = isinstance(n_rows, (int, np.integer)) and not isinstance(n_rows, bool)
    if not valid or not 1 <= n_rows <= n_images:
        raise ValueError(
            f"n_rows must be an integer in [1, {n_images}] (the number of images), "
            f"got {n_rows!r}"
        )
    return int(n_rows)


def _names_or_default(
    name: str, names: Sequence[str] | None, units: np.ndarray, template: str
) -> list[str]:
    if names is None:
        return [template.format(unit) for unit in units]
    if len(names) != len(units):
        raise ValueError(
            f"{name} has {len(names)} entries but {len(units)} units are plotted; "
            "give one name per unit"
        )
    return [str(entry) for entry in names]


def _class_legend_names(
    classes: np.ndarray, class_names: Sequence[str] | None
) -> list[str]:
    if class_names is None:
        return [str(label) for label in classes]
    invalid = classes[(classes < 0) | (classes >= len(class_names))]
    if invalid.size:
        raise ValueError(
            f"labels {invalid.tolist()} have no entry in class_names, which has "
            f"{len(class_names)} entries; class_names[k] must name label k"
        )
    return [str(class_names[label]) for label in classes]


def _training_keys(
    history: Mapping[str, Sequence[float | None]], keys: Sequence[str] | None
) -> list[str]:
    if keys is None:
        keys = [key for key in history if key != "epoch"]
    keys = list(keys)
    if not keys:
        raise ValueError("no metric to plot; history needs a key besides 'epoch'")
    for key in keys:
        if key == "epoch":
            raise ValueError("keys must not contain 'epoch', which is the x axis")
        if key not in history:
            raise ValueError(
                f"history has no key {key!r}; available keys: {sorted(history)}"
            )
    return keys


def _as_series(history: Mapping[str, Sequence[float | None]], key: str) -> np.ndarray:
    try:
        # dtype=float turns None into NaN.
        values = np.asarray(history[key], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"history[{key!r}] must contain numbers or None ({error})"
        ) from error
    if values.ndim != 1:
        raise ValueError(
            f"history[{key!r}] must be a flat sequence, got shape {values.shape}"
        )
    return values


# --------------------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------------------


def _class_colors(n_classes: int) -> list:
    if n_classes <= 10:
        return list(colormaps["tab10"].colors[:n_classes])
    if n_classes <= 20:
        return list(colormaps["tab20"].colors[:n_classes])
    return list(colormaps["viridis"](np.linspace(0.0, 1.0, n_classes)))


def _tile(
    images: np.ndarray,
    n_columns: int,
    n_rows: int,
    row_gap: int,
    column_gap: int,
    leading_row_gap: bool = False,
) -> np.ma.MaskedArray:
    """Arrange images of shape (n, height, width) row by row in a masked mosaic.

    Gaps between images, and cells after the last image, are masked, so imshow draws
    them in the colormap's "bad" color. With ``leading_row_gap`` every row,
    the first included, has its gap above it instead of below.
    """
    n_images, height, width = images.shape
    first_top = row_gap if leading_row_gap else 0
    mosaic_shape = (
        n_rows * (height + row_gap) - row_gap + first_top,
        n_columns * (width + column_gap) - column_gap,
    )
    # Masked cells contain 0.0 rather than masked_all's uninitialized memory, which
    # the colormap would still scale and could overflow on.
    mosaic = np.ma.array(np.zeros(mosaic_shape), mask=True)
    for position in range(n_images):
        row, column = divmod(position, n_columns)
        top = first_top + row * (height + row_gap)
        left = column * (width + column_gap)
        mosaic[top : top + height, left : left + width] = images[position]
    return mosaic


def _mosaic_figure(
    mosaic: np.ndarray,
    width: int,
    label_inches: float,
    title: str | None,
    colorbar: bool = False,
) -> Figure:
    """Create a figure in which each image is about `_CELL_INCHES` wide."""
    inches_per_pixel = _CELL_INCHES / width
    figure_width = mosaic.shape[1] * inches_per_pixel + label_inches
    figure_width += 1.0 if colorbar else 0.2
    figure_height = mosaic.shape[0] * inches_per_pixel
    figure_height += 0.5 if title is not None else 0.2
    return Figure(
        figsize=(max(figure_width, 2.0), max(figure_height, 1.0)),
        dpi=DPI,
        layout="constrained",
    )


def _with_gap_color(cmap: str | Colormap) -> Colormap:
    if isinstance(cmap, Colormap):
        return cmap.with_extremes(bad=_GAP_COLOR)
    if cmap not in colormaps:
        raise ValueError(
            f"cmap {cmap!r} is not a registered matplotlib colormap; "
            "use a name from matplotlib.colormaps, such as 'gray_r'"
        )
    return colormaps[cmap].with_extremes(bad=_GAP_COLOR)


class _LetterPaths:
    """Glyph outlines of an alphabet, each scaled to fill the unit square."""

    def __init__(self, alphabet: str) -> None:
        self.paths = {}
        self.colors = {}
        for letter in alphabet:
            glyph = TextPath((0, 0), letter, size=1, prop=_LOGO_FONT)
            box = glyph.get_extents()
            # A glyph with an empty outline would have a zero-size box, and the
            # max() keeps the scaling finite for it.
            to_unit = (
                Affine2D()
                .translate(-box.x0, -box.y0)
                .scale(1 / max(box.width, 1e-9), 1 / max(box.height, 1e-9))
            )
            self.paths[letter] = to_unit.transform_path(glyph)
            self.colors[letter] = _CHEMISTRY_COLORS.get(letter, _OTHER_LETTER_COLOR)

    def placed(self, letter: str, x: float, y: float, width: float, height: float):
        """Return the outline of `letter` filling the box at (x, y)."""
        box = Affine2D().scale(width, height).translate(x, y)
        return box.transform_path(self.paths[letter])


def _logo_sites(unit_weights: np.ndarray, n_shown: int) -> np.ndarray:
    """Return the n_shown sites of largest weight norm, in increasing order.

    ``unit_weights`` has shape (n_sites, n_states). A stable sort on the negated
    norms breaks ties towards the lower site index.
    """
    norms = np.sqrt(np.sum(unit_weights**2, axis=1))
    order = np.argsort(-norms, kind="stable")
    return np.sort(order[:n_shown])


def _draw_logo(axes, site_weights: np.ndarray, letters: _LetterPaths) -> None:
    """Draw one logo of ``site_weights`` (n_shown, n_states) into `axes`."""
    positive = np.where(site_weights > 0, site_weights, 0.0)
    negative = np.where(site_weights < 0, -site_weights, 0.0)
    top = float(positive.sum(axis=1).max())
    bottom = float(negative.sum(axis=1).max())
    span = top + bottom
    if span == 0.0:
        top = bottom = span = 1.0
    min_height = _LOGO_MIN_LETTER_FRACTION * span
    alphabet = list(letters.paths)
    width = _LOGO_LETTER_WIDTH
    paths_by_color = {}
    for site in range(site_weights.shape[0]):
        x = site - width / 2
        for heights, direction in ((positive[site], 1.0), (negative[site], -1.0)):
            # Smallest first, so the largest letter ends up farthest from zero.
            offset = 0.0
            for state in np.argsort(heights, kind="stable"):
                height = float(heights[state])
                if height < min_height:
                    continue
                letter = alphabet[state]
                y = offset if direction > 0 else -offset - height
                paths_by_color.setdefault(letters.colors[letter], []).append(
                    letters.placed(letter, x, y, width, height)
                )
                offset += height
    # add_artist instead of add_patch, and out of the layout: the limits are set
    # below, and computing the extents of thousands of glyph curves for autoscaling
    # and for the tight bounding box would take most of the drawing time.
    for color, paths in paths_by_color.items():
        compound = MplPath.make_compound_path(*paths)
        patch = PathPatch(
            compound, facecolor=color, edgecolor="none", transform=axes.transData
        )
        patch.set_in_layout(False)
        axes.add_artist(patch)
    axes.axhline(0.0, color="black", linewidth=0.6)
    axes.set_xlim(-0.5, site_weights.shape[0] - 0.5)
    margin = 0.05 * span
    axes.set_ylim(-bottom - margin, top + margin)


def _hide_frame(axes) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)


def _save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    # tight bounding box: colorbar labels and long titles stay inside the PNG
    figure.savefig(target, format="png", dpi=DPI, bbox_inches="tight")
    return target
