"""Per-unit measures of how much a hidden unit's input carries about a label.

Every function takes the hidden inputs ``I`` of shape (n, M), where column mu is
``I_mu(v)`` over n samples, a 1-D categorical label of length n (anything
`rbmfast.labels.encode_labels` accepts) and optional non-negative sample weights
of shape (n,). Moments are weighted population moments (divided by the sum of
weights, without Bessel's correction), so integer weights give the same result
as repeating rows. The histogram estimate of mutual information is the one
exception. Inputs may be float32 or float64, and results are float64.
"""

import numpy as np

from rbmfast.labels import (
    _as_data,
    _row_blocks,
    _weighted_mean,
    check_weights,
    encode_labels,
    label_covariance_matrix,
    label_matrix,
)

__all__ = [
    "class_conditional_moments",
    "input_label_correlation",
    "input_label_covariance",
    "max_abs_covariance",
    "mutual_information",
    "variance_spread",
]

# A standard deviation at most this fraction of a unit's max |I| is rounding error
# of a constant unit and is treated as exactly zero. A constant 0.1, for example,
# gives a computed variance near 1e-34 instead of 0.
_ZERO_STD_RTOL = 1e-12


def input_label_covariance(inputs, labels, weights=None):
    """Compute the covariance of each unit's input with the one-hot label.

    Parameters
    ----------
    inputs : array_like of float, shape (n, M)
        Hidden inputs, one sample per row.
    labels : array_like, shape (n,)
        Categorical labels. The last class column is dropped, as in
        `rbmfast.labels.label_matrix`.
    weights : array_like of float, shape (n,), optional
        Sample weights.

    Returns
    -------
    covariance : ndarray of float64, shape (M, K-1)
        ``Cov(I_mu, u_k)`` for unit mu and kept class column k.
    """
    x = _as_data(inputs)
    U, _ = _label_matrix_for(labels, weights, x.shape[0])
    return label_covariance_matrix(x, U, weights)


def input_label_correlation(inputs, labels, weights=None):
    """Compute the Pearson correlation of each unit's input with the one-hot label.

    Parameters
    ----------
    inputs : array_like of float, shape (n, M)
        Hidden inputs, one sample per row.
    labels : array_like, shape (n,)
        Categorical labels, last class column dropped.
    weights : array_like of float, shape (n,), optional
        Sample weights.

    Returns
    -------
    correlation : ndarray of float64, shape (M, K-1)
        Values in [-1, 1]. A unit or class column with zero variance gives 0, not
        NaN. A standard deviation below ``1e-12 * max|I_mu|`` counts as zero.
    """
    x = _as_data(inputs)
    U, _ = _label_matrix_for(labels, weights, x.shape[0])
    covariance = label_covariance_matrix(x, U, weights)
    probabilities = _normalized_weights(weights, x.shape[0])

    input_std = _zero_rounding(
        np.sqrt(_weighted_variance(x, probabilities)), _max_abs(x)
    )
    U_centred = U - probabilities @ U
    label_std = np.sqrt(probabilities @ U_centred**2)

    denominator = input_std[:, None] * label_std[None, :]
    correlation = np.zeros_like(covariance)
    np.divide(covariance, denominator, out=correlation, where=denominator > 0)
    return np.clip(correlation, -1.0, 1.0)


def max_abs_covariance(inputs, labels, weights=None):
    """Compute each unit's largest absolute covariance with a label column.

    Parameters
    ----------
    inputs : array_like of float, shape (n, M)
        Hidden inputs, one sample per row.
    labels : array_like, shape (n,)
        Categorical labels, last class column dropped.
    weights : array_like of float, shape (n,), optional
        Sample weights.

    Returns
    -------
    max_abs : ndarray of float64, shape (M,)
        ``max_k |Cov(I_mu, u_k)|``.
    """
    return np.abs(input_label_covariance(inputs, labels, weights)).max(axis=1)


def class_conditional_moments(inputs, labels, weights=None):
    """Compute the mean and variance of each unit's input within each class.

    Parameters
    ----------
    inputs : array_like of float, shape (n, M)
        Hidden inputs, one sample per row.
    labels : array_like, shape (n,)
        Categorical labels.
    weights : array_like of float, shape (n,), optional
        Sample weights.

    Returns
    -------
    moments : dict
        ``classes`` : ndarray, shape (K,), the sorted classes.
        ``means`` : ndarray of float64, shape (K, M).
        ``variances`` : ndarray of float64, shape (K, M), weighted population
        variances. Values with a standard deviation below ``1e-12 * max|I_mu|``
        are set to 0.
        ``counts`` : ndarray of float64, shape (K,), the sum of weights per class,
        which is the number of samples when `weights` is None.
        A class whose samples all have weight 0 gets count 0 and NaN moments.
    """
    x, codes, classes, weights = _prepare(inputs, labels, weights)
    n_classes = classes.shape[0]
    counts = np.bincount(codes, weights=weights, minlength=n_classes)

    sums = np.zeros((n_classes, x.shape[1]), np.float64)
    for rows in _row_blocks(x.shape[0], x.shape[1]):
        block = x[rows].astype(np.float64, copy=False)
        sums += _weighted_onehot(codes[rows], weights[rows], n_classes).T @ block
    present = counts > 0
    means = np.zeros_like(sums)
    means[present] = sums[present] / counts[present, None]

    # Second pass over centred values avoids the cancellation of E[I^2] - E[I]^2.
    squares = np.zeros_like(sums)
    for rows in _row_blocks(x.shape[0], x.shape[1]):
        deviations = x[rows].astype(np.float64, copy=False) - means[codes[rows]]
        onehot = _weighted_onehot(codes[rows], weights[rows], n_classes)
        squares += onehot.T @ deviations**2
    variances = np.zeros_like(sums)
    variances[present] = squares[present] / counts[present, None]
    max_abs = _max_abs(x)
    variances = _zero_rounding(np.sqrt(variances), max_abs[None, :]) ** 2

    means[~present] = np.nan
    variances[~present] = np.nan
    return {
        "classes": classes,
        "means": means,
        "variances": variances,
        "counts": counts,
    }


def variance_spread(inputs, labels, weights=None):
    """Compute the relative spread of each unit's variance across classes.

    ``(max_c var_c - min_c var_c) / mean_c var_c``, over the classes with positive
    total weight, with an unweighted mean over classes. A constrained unit can
    have zero covariance with the label and still encode it in its variance,
    which this measure detects.

    Parameters
    ----------
    inputs : array_like of float, shape (n, M)
        Hidden inputs, one sample per row.
    labels : array_like, shape (n,)
        Categorical labels.
    weights : array_like of float, shape (n,), optional
        Sample weights.

    Returns
    -------
    spread : ndarray of float64, shape (M,)
        Non-negative. 0 for a unit whose class variances are all 0.
    """
    moments = class_conditional_moments(inputs, labels, weights)
    variances = moments["variances"][moments["counts"] > 0]
    mean_variance = variances.mean(axis=0)
    spread = np.zeros_like(mean_variance)
    np.divide(
        variances.max(axis=0) - variances.min(axis=0),
        mean_variance,
        out=spread,
        where=mean_variance > 0,
    )
    return spread


def mutual_information(inputs, labels, weights=None, method="gaussian", bins=32):
    """Estimate the mutual information between each unit's input and the label.

    Parameters
    ----------
    inputs : array_like of float, shape (n, M)
        Hidden inputs, one sample per row.
    labels : array_like, shape (n,)
        Categorical labels.
    weights : array_like of float, shape (n,), optional
        Sample weights.
    method : {"gaussian", "histogram"}
        ``"gaussian"`` estimates from second moments,
        ``0.5 log var(I) - sum_c p_c 0.5 log var_c(I)``, with class weights p_c.
        For Gaussian class-conditionals it is an upper bound on the true MI,
        because a Gaussian has the maximum entropy for its variance, and it is
        exact only when all classes share one distribution (MI 0). It ignores
        class differences in shape beyond the variance, so it can return 0 for
        a dependent unit. By the law of total variance and Jensen's
        inequality it is never negative, and it is clipped to [0, H(label)]
        (a class with zero variance would otherwise give +inf).
        ``"histogram"`` is the plug-in estimate from a joint histogram with
        `bins` equal-width bins over each unit's range, plus the Miller-Madow
        bias correction. Its bias is described under Notes.
    bins : int
        Number of bins per unit for ``"histogram"``. Ignored for ``"gaussian"``.

    Returns
    -------
    mi : ndarray of float64, shape (M,)
        Mutual information in nats, non-negative.

    Raises
    ------
    ValueError
        If `method` or `bins` is invalid, or the inputs, labels or weights are.

    Notes
    -----
    The plug-in histogram estimate is biased upwards by about
    ``(bins - 1)(K - 1) / (2 n)`` for independent data. The Miller-Madow
    correction subtracts ``(m_bc - m_b - m_c + 1) / (2 n)``, where m counts the
    non-empty cells of the joint, input and label histograms. With weights, n is
    the Kish effective sample size ``(sum w)^2 / sum w^2``, so integer weights
    are not equivalent to repeated rows for this method. Equal-width bins bias
    the estimate downwards when a few outliers stretch the range, and the result
    depends on `bins`. The corrected estimate is clipped at 0.
    """
    if method == "gaussian":
        return _gaussian_mutual_information(inputs, labels, weights)
    if method == "histogram":
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
            raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
        if bins < 2:
            raise ValueError(f"bins must be an integer >= 2, got {bins}")
        return _histogram_mutual_information(inputs, labels, weights, int(bins))
    raise ValueError(f"method must be 'gaussian' or 'histogram', got {method!r}")


def _gaussian_mutual_information(inputs, labels, weights):
    x = _as_data(inputs)
    moments = class_conditional_moments(x, labels, weights)
    present = moments["counts"] > 0
    class_probabilities = moments["counts"][present] / moments["counts"].sum()
    means = moments["means"][present]
    variances = moments["variances"][present]

    # Law of total variance: within-class part plus between-class part.
    overall_mean = class_probabilities @ means
    total_variance = class_probabilities @ variances
    total_variance += class_probabilities @ (means - overall_mean) ** 2
    total_variance = _zero_rounding(np.sqrt(total_variance), _max_abs(x)) ** 2

    label_entropy = -np.sum(class_probabilities * np.log(class_probabilities))
    with np.errstate(divide="ignore"):
        log_total = np.log(total_variance)
        log_within = class_probabilities @ np.log(variances)
    mi = np.zeros(x.shape[1], np.float64)
    varying = total_variance > 0
    mi[varying] = 0.5 * (log_total[varying] - log_within[varying])
    return np.clip(mi, 0.0, label_entropy)


def _histogram_mutual_information(inputs, labels, weights, bins):
    """Estimate MI from a joint (bin, class) histogram per unit.

    The plug-in estimate is ``sum p(b, c) log(p(b, c) / (p(b) p(c)))``, and the
    Notes of `mutual_information` describe the correction and its bias.
    """
    x, codes, classes, weights = _prepare(inputs, labels, weights)
    n_classes = classes.shape[0]
    counts = _joint_histogram(x, codes, n_classes, weights, bins)

    joint = counts / weights.sum()
    input_marginal = joint.sum(axis=2, keepdims=True)
    label_marginal = joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = joint * np.log(joint / (input_marginal * label_marginal))
    plug_in = np.where(joint > 0, terms, 0.0).sum(axis=(1, 2))

    occupied_joint = (counts > 0).sum(axis=(1, 2))
    occupied_input = (counts.sum(axis=2) > 0).sum(axis=1)
    occupied_label = (counts.sum(axis=1) > 0).sum(axis=1)
    effective_n = weights.sum() ** 2 / np.sum(weights**2)
    correction = (occupied_joint - occupied_input - occupied_label + 1) / (
        2.0 * effective_n
    )
    return np.maximum(plug_in - correction, 0.0)


def _joint_histogram(x, codes, n_classes, weights, bins):
    """Return weighted counts of shape (M, bins, K) over equal-width bins."""
    n_units = x.shape[1]
    positive = weights > 0
    ranged = x if positive.all() else x[positive]
    low = ranged.min(axis=0).astype(np.float64)
    high = ranged.max(axis=0).astype(np.float64)
    width = high - low
    width = np.where(width > _ZERO_STD_RTOL * _max_abs(x), width, np.inf)

    counts = np.zeros(n_units * bins * n_classes, np.float64)
    unit_offsets = np.arange(n_units, dtype=np.int64) * (bins * n_classes)
    for rows in _row_blocks(x.shape[0], n_units):
        scaled = (x[rows].astype(np.float64, copy=False) - low) / width * bins
        # Samples at the maximum, and zero-weight samples outside the range, land
        # in the edge bins. A constant unit has infinite width, so all go to bin 0.
        bin_index = np.clip(np.floor(scaled), 0, bins - 1).astype(np.int64)
        flat = unit_offsets + bin_index * n_classes + codes[rows, None]
        block_weights = np.broadcast_to(weights[rows, None], flat.shape)
        counts += np.bincount(
            flat.ravel(), weights=block_weights.ravel(), minlength=counts.size
        )
    return counts.reshape(n_units, bins, n_classes)


def _prepare(inputs, labels, weights):
    x = _as_data(inputs)
    codes, classes = encode_labels(labels)
    if codes.shape[0] != x.shape[0]:
        raise ValueError(
            f"labels has {codes.shape[0]} entries but inputs has {x.shape[0]} "
            "rows; pass one label per sample"
        )
    return x, codes, classes, check_weights(weights, x.shape[0])


def _label_matrix_for(labels, weights, n):
    labels = np.asarray(labels) if labels is not None else labels
    if labels is not None and labels.ndim >= 1 and labels.shape[0] != n:
        raise ValueError(
            f"labels has {labels.shape[0]} entries but inputs has {n} rows; "
            "pass one label per sample"
        )
    return label_matrix(labels, weights)


def _normalized_weights(weights, n):
    weights = check_weights(weights, n)
    return weights / weights.sum()


def _weighted_variance(x, probabilities):
    mean = _weighted_mean(x, probabilities)
    variance = np.zeros(x.shape[1], np.float64)
    for rows in _row_blocks(x.shape[0], x.shape[1]):
        deviations = x[rows].astype(np.float64, copy=False) - mean
        variance += probabilities[rows] @ deviations**2
    return variance


def _weighted_onehot(codes, weights, n_classes):
    onehot = np.zeros((codes.shape[0], n_classes), np.float64)
    onehot[np.arange(codes.shape[0]), codes] = weights
    return onehot


def _max_abs(x):
    return np.abs(x).max(axis=0).astype(np.float64)


def _zero_rounding(std, max_abs):
    """Set standard deviations that are rounding error of a constant to zero."""
    return np.where(std > _ZERO_STD_RTOL * max_abs, std, 0.0)
