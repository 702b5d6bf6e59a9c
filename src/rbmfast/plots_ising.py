"""PNG figures of the Ising report and of the cost of disentanglement.

Like `rbmfast.plots`, every function builds a ``matplotlib.figure.Figure``
directly, without pyplot state or a backend choice, and writes PNG at
`rbmfast.plots.DPI` dots per inch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from rbmfast.datasets.ising import (T_CRITICAL, exact_energy_per_spin,
                                    exact_magnetisation)
from rbmfast.plots import DPI

__all__ = ["plot_clamped_observables", "plot_cost", "plot_variances_by_temperature"]

# Points of the Onsager curves between the lowest and highest temperature.
_CURVE_POINTS = 400


def plot_variances_by_temperature(temperatures, constrained, free, path,
                                  tolerance=None, title=None):
    """Plot class-conditional input variances against the temperature.

    Parameters
    ----------
    temperatures : array_like, shape (K,)
    constrained : ndarray, shape (K, G)
        Variance of each constrained unit's input at each temperature.  The
        left panel shows each unit divided by its mean over temperatures, so
        a unit whose variance does not depend on the temperature is the
        line at 1.
    free : ndarray, shape (K, F)
        The same for the free units, shown unscaled on a log axis on the
        right.
    path : str or os.PathLike
    tolerance : float, optional
        Spread (max - min) / mean that is drawn as a band of that width
        around 1 in the left panel.
    """
    temperatures = np.asarray(temperatures, dtype=np.float64)
    constrained = np.asarray(constrained, dtype=np.float64)
    free = np.asarray(free, dtype=np.float64)
    order = np.argsort(temperatures)
    figure = Figure(figsize=(10, 4), dpi=DPI, layout="constrained")
    left, right = figure.subplots(1, 2)
    if constrained.size:
        mean = constrained.mean(axis=0)
        scaled = np.divide(constrained, mean, out=np.ones_like(constrained),
                           where=mean > 0)
        for unit in range(scaled.shape[1]):
            left.plot(temperatures[order], scaled[order, unit], color="tab:blue",
                      alpha=0.5, linewidth=1)
    if tolerance is not None:
        left.axhspan(1 - tolerance / 2, 1 + tolerance / 2, color="tab:green",
                     alpha=0.15, label=f"tolerance band, width {tolerance:.3g}")
        left.legend(fontsize="small")
    left.axvline(T_CRITICAL, color="gray", linestyle=":", linewidth=1)
    left.set_xlabel("temperature T")
    left.set_ylabel("Var(I | T) / mean over T")
    left.set_title(f"{constrained.shape[1]} constrained units", fontsize="medium")
    for unit in range(free.shape[1]):
        right.plot(temperatures[order], free[order, unit], marker="o", markersize=3,
                   label=f"free unit {unit}")
    right.set_yscale("log")
    right.axvline(T_CRITICAL, color="gray", linestyle=":", linewidth=1)
    right.set_xlabel("temperature T")
    right.set_ylabel("Var(I | T)")
    right.set_title("free units", fontsize="medium")
    if free.shape[1]:
        right.legend(fontsize="small")
    for axes in (left, right):
        axes.grid(True, alpha=0.3)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_clamped_observables(temperatures, simulated, clamped, path, sweep=None,
                             title=None):
    """Plot energy and |magnetisation| per spin of clamped samples against T.

    Parameters
    ----------
    temperatures : array_like, shape (K,)
        Temperature of each class, the x position of its points.
    simulated : dict
        ``energy`` and ``abs_magnetisation``, arrays of shape (K,): means
        of the simulated configurations.
    clamped : dict
        ``energy`` and ``abs_magnetisation`` means and ``energy_std`` and
        ``abs_magnetisation_std``, arrays of shape (K,): the samples drawn
        with the free units clamped to each class's value.
    path : str or os.PathLike
    sweep : dict, optional
        ``energy`` and ``abs_magnetisation`` of samples at other clamped
        values, drawn only in the third panel.

    The exact infinite-lattice curves (Onsager's energy and spontaneous
    magnetisation) are drawn over the range of `temperatures`.  The third
    panel shows energy against |magnetisation|, where the simulated points
    and Onsager's curve (T from the lowest temperature to T_c) need no
    mapping from clamped values to temperatures.
    """
    temperatures = np.asarray(temperatures, dtype=np.float64)
    grid = np.linspace(temperatures.min(), temperatures.max(), _CURVE_POINTS)
    exact = {"energy": exact_energy_per_spin(grid),
             "abs_magnetisation": exact_magnetisation(grid)}
    labels = {"energy": "energy per spin E / L^2",
              "abs_magnetisation": "|magnetisation| per spin"}
    figure = Figure(figsize=(15, 4), dpi=DPI, layout="constrained")
    panels = figure.subplots(1, 3)
    for axes, key in zip(panels, ("energy", "abs_magnetisation")):
        axes.plot(grid, exact[key], color="black", linewidth=1,
                  label="Onsager, infinite lattice")
        axes.plot(temperatures, simulated[key], "o", color="tab:blue",
                  label="simulated (data)")
        axes.errorbar(temperatures, clamped[key], yerr=clamped[f"{key}_std"],
                      fmt="s", color="tab:red", capsize=3,
                      label="RBM, free units clamped (mean, sd)")
        axes.axvline(T_CRITICAL, color="gray", linestyle=":", linewidth=1)
        axes.set_xlabel("temperature T of the clamped value")
        axes.set_ylabel(labels[key])
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small")
    plane = panels[2]
    ordered = grid < T_CRITICAL
    plane.plot(exact["abs_magnetisation"][ordered], exact["energy"][ordered],
               color="black", linewidth=1, label="Onsager, T < T_c")
    m = np.linspace(0.0, 1.0, _CURVE_POINTS)
    plane.plot(m, -2.0 * m * m, color="gray", linestyle="--", linewidth=1,
               label="independent spins, E = -2 m^2")
    plane.plot(simulated["abs_magnetisation"], simulated["energy"], "o",
               color="tab:blue", label="simulated (data)")
    plane.plot(clamped["abs_magnetisation"], clamped["energy"], "s", color="tab:red",
               label="RBM, class values")
    if sweep is not None:
        plane.plot(sweep["abs_magnetisation"], sweep["energy"], "^-",
                   color="tab:orange", label="RBM, values 0 to the largest")
    plane.set_xlabel("|magnetisation| per spin")
    plane.set_ylabel("energy per spin")
    plane.grid(True, alpha=0.3)
    plane.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_cost(result, path, title=None):
    """Plot the measured cost of disentanglement against lambda_Q.

    Parameters
    ----------
    result : dict
        The output of `rbmfast.evaluation.empirical_cost.empirical_cost`.
        The left panel shows the held-out log-likelihood per site of each
        constrained setting minus the unconstrained one, one line per number
        of free units, with error bars of the combined log Z and data
        standard errors (per site).  The right panel shows the median
        variance spread of the constrained units on the training data.
    path : str or os.PathLike
    """
    differences = result["differences"]
    n_visible = result["n_visible"]
    plotted_spreads = []
    figure = Figure(figsize=(10, 4), dpi=DPI, layout="constrained")
    left, right = figure.subplots(1, 2)
    for n_free in sorted({d["n_free"] for d in differences}):
        rows = [(d, r) for d, r in zip(differences, result["constrained"])
                if d["n_free"] == n_free]
        strengths = np.array([d["lambda_Q"] for d, _ in rows])
        delta = np.array([d["delta_log_likelihood_per_site"] for d, _ in rows])
        error = np.array([np.hypot(d["std_error_log_z"], d["std_error_data"])
                          for d, _ in rows]) / n_visible
        left.errorbar(strengths, delta, yerr=error, marker="o", capsize=3,
                      label=f"{n_free} free")
        spreads = [r["variance_spread"]["train"].get("constrained_median", np.nan)
                   for _, r in rows]
        right.plot(strengths, spreads, marker="o", label=f"{n_free} free")
        plotted_spreads += spreads
    reference = result["unconstrained"]["variance_spread"]["train"]["all_median"]
    right.axhline(reference, color="black", linestyle="--", linewidth=1,
                  label="unconstrained, all units")
    strengths = sorted({d["lambda_Q"] for d in differences})
    for axes in (left, right):
        if len(strengths) > 1:
            axes.set_xscale("symlog", linthresh=_linear_threshold(differences))
        else:
            # one value: a symlog axis around it would span about 1e-2
            axes.set_xticks(strengths)
            axes.set_xlim(strengths[0] - max(abs(strengths[0]), 1.0),
                          strengths[0] + max(abs(strengths[0]), 1.0))
        axes.set_xlabel("lambda_Q")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small")
    left.axhline(0.0, color="black", linewidth=1)
    left.set_ylabel("held-out log-likelihood per site,\nconstrained - unconstrained")
    right.set_ylabel("median variance spread of\nconstrained units (training data)")
    if _spans_decade(plotted_spreads + [reference]):
        right.set_yscale("log")
    # the dashed line would otherwise widen the right panel's symlog range
    # to negative lambda_Q
    right.set_xlim(left.get_xlim())
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def _spans_decade(values):
    """Return True when the positive finite `values` span a factor of 10 or more."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    return values.size > 1 and values.max() >= 10 * values.min()


def _linear_threshold(differences):
    """Return the symlog threshold: the smallest positive lambda_Q, or 1."""
    positive = [d["lambda_Q"] for d in differences if d["lambda_Q"] > 0]
    return min(positive) if positive else 1.0


def _save(figure, path):
    target = Path(path)
    figure.savefig(target, format="png", dpi=DPI, bbox_inches="tight")
    return target
