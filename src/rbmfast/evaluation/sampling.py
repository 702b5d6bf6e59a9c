"""Conditional generation with chosen hidden units clamped.

After every hidden sampling step of the Gibbs chain the clamped units are
overwritten with target values, then the visible units are sampled.  With
the free units of a disentangled RBM clamped to a class's typical value,
samples move along the label while the constrained units keep the
label-independent variation.
"""
from __future__ import annotations

import numpy as np

from rbmfast.labels import encode_labels

__all__ = ["class_typical_values", "sample_clamped"]


def class_typical_values(rbm, v, labels, units):
    """Return the mean of E[h_units | v] over each class.

    Parameters
    ----------
    v : ndarray, shape (n_samples, n_visible)
    labels : array_like, shape (n_samples,)
    units : array_like of int, shape (C,)

    Returns
    -------
    classes : ndarray, shape (K,)
    values : ndarray, shape (K, C), float64
    """
    units = np.asarray(units, dtype=np.int64)
    codes, classes = encode_labels(labels)
    if len(codes) != len(v):
        raise ValueError(f"labels have length {len(codes)} but v has {len(v)} samples")
    means = rbm.mean_h_from_v(v)[:, units].astype(np.float64)
    values = np.stack([means[codes == k].mean(axis=0) for k in range(len(classes))])
    return classes, values


def sample_clamped(rbm, stream, units, values, n_samples=None, n_steps=500,
                   start=None, n_threads=None):
    """Sample visible states with hidden `units` clamped to `values`.

    Parameters
    ----------
    stream : rbmfast.random.Stream
    units : array_like of int, shape (C,)
    values : array_like, shape (C,) or (n_samples, C)
        Clamped values (the same for every chain, or one row per chain).
    n_samples : int, optional
        Number of chains; taken from `start` or `values` when omitted.
    n_steps : int
        Gibbs sweeps, >= 1.
    start : ndarray, shape (n_samples, n_visible), optional
        Initial visible states (e.g. data points, to transfer their label);
        by default sampled from the visible fields alone.

    Returns
    -------
    v : ndarray, shape (n_samples, n_visible)
        Visible states after the last sweep.
    """
    if isinstance(n_steps, bool) or int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}: with no "
                         "sweep the chains would still be at their starting states")
    values = np.asarray(values, dtype=np.float64)
    if n_samples is None:
        if start is not None:
            n_samples = len(start)
        elif values.ndim == 2:
            n_samples = values.shape[0]
        else:
            raise ValueError("give n_samples, start or one row of values per chain")
    if start is None:
        start = rbm.sample_independent_visible(n_samples, stream, n_threads)
    elif len(start) != n_samples:
        raise ValueError(f"start has {len(start)} rows, expected {n_samples}")
    v, _ = rbm.gibbs(start, stream, n_steps, clamp=(np.asarray(units), values),
                     n_threads=n_threads)
    return v
