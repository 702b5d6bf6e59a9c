"""Label encoding and label-weighted moments shared by constraints and metrics.

A categorical label is encoded as a one-hot matrix with one class column dropped,
so its columns are linearly independent. A continuous label is a float array of
shape (n, L) used as is. The moment functions take optional sample weights and
accumulate over blocks of rows, so float32 inputs are promoted to float64 one block
at a time instead of all at once.
"""

import numpy as np

__all__ = [
    "check_weights",
    "encode_labels",
    "label_covariance_matrix",
    "potts_label_covariance",
    "label_matrix",
    "label_second_moment",
]

# Number of float64 elements converted and centred per block of rows (32 MiB).
_BLOCK_ELEMENTS = 1 << 22


def encode_labels(labels, classes=None):
    """Encode categorical labels as integer class codes.

    Parameters
    ----------
    labels : array_like, shape (n,)
        Integer, string, bool or float labels. NaN and None are rejected.
    classes : array_like, shape (K,), optional
        Class order. Code ``k`` means ``classes[k]``. Default: the sorted unique
        labels.

    Returns
    -------
    codes : ndarray of int64, shape (n,)
        Index of each label in `classes`.
    classes : ndarray, shape (K,)
        The classes, in code order.

    Raises
    ------
    ValueError
        If `labels` is None, empty, not 1-D or contains NaN or None, if `classes`
        contains duplicates, or if a label is not in `classes`.
    """
    labels = _as_label_array(labels, "labels")
    if classes is None:
        try:
            classes, codes = np.unique(labels, return_inverse=True)
        except TypeError as error:
            raise ValueError(
                f"labels of mixed types cannot be sorted ({error}); pass labels "
                "of one type or give the class order in `classes`"
            ) from error
        return codes.reshape(-1).astype(np.int64), classes
    classes = _as_label_array(classes, "classes")
    return _encode_with_classes(labels, classes), classes


def _as_label_array(values, name):
    if values is None:
        raise ValueError(f"{name} is None; pass a 1-D array of labels")
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got shape {array.shape}; pass one label per sample"
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty; pass at least one label")
    if array.dtype.kind == "f" and np.isnan(array).any():
        index = int(np.flatnonzero(np.isnan(array))[0])
        raise ValueError(f"{name} contains NaN at index {index}; remove or fill it")
    if array.dtype.kind == "O":
        for index, value in enumerate(array):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                raise ValueError(
                    f"{name} contains {value!r} at index {index}; remove or fill it"
                )
    return array


def _encode_with_classes(labels, classes):
    lookup = {}
    for code, value in enumerate(classes.tolist()):
        if value in lookup:
            raise ValueError(f"classes contains {value!r} twice; list each class once")
        lookup[value] = code
    unique, inverse = np.unique(labels, return_inverse=True)
    unknown = [value for value in unique.tolist() if value not in lookup]
    if unknown:
        raise ValueError(
            f"labels {unknown[:10]!r} are not in classes {classes.tolist()[:10]!r}; "
            "add them to `classes`"
        )
    unique_codes = np.array([lookup[value] for value in unique.tolist()], np.int64)
    return unique_codes[inverse.reshape(-1)]


def label_matrix(labels, weights=None, drop="last", classes=None):
    """Build the label matrix U used in covariance constraints and metrics.

    A 1-D `labels` of any dtype is categorical and becomes a one-hot matrix with
    one class column dropped. A 2-D float `labels` of shape (n, L) is continuous
    (for example temperature or magnetisation) and is returned as float64.

    Parameters
    ----------
    labels : array_like, shape (n,) or (n, L)
        Categorical labels (1-D, anything `encode_labels` accepts) or continuous
        labels (2-D, float dtype).
    weights : array_like of float, shape (n,), optional
        Sample weights. A class counts as present only if some sample of it has
        positive weight.
    drop : {"last", "first", None}
        Which class column to drop from the one-hot matrix. None keeps all K
        columns, whose sum is then 1 for every sample.
    classes : array_like, shape (K,), optional
        Class order passed to `encode_labels`.

    Returns
    -------
    U : ndarray of float64, shape (n, K-1), (n, K) or (n, L)
        One-hot columns for categorical labels, so a binary label gives one
        column. Continuous labels are returned unchanged as float64.
    classes : ndarray, shape (K,), or None
        The classes in code order, including the dropped one. None for continuous
        labels.

    Raises
    ------
    ValueError
        If fewer than two classes carry positive weight, if `drop` is invalid, if
        a 2-D `labels` is not float or contains NaN or inf, or if `weights` is
        invalid.
    """
    array = np.asarray(labels) if labels is not None else None
    if array is not None and array.ndim == 2:
        return _continuous_label_matrix(array, weights), None

    codes, classes = encode_labels(labels, classes)
    weights = check_weights(weights, codes.shape[0])
    present = np.unique(codes[weights > 0])
    if present.size < 2:
        raise ValueError(
            f"label has a single class {classes.tolist()[present[0]]!r}; "
            "a constraint needs at least two"
        )

    onehot = np.zeros((codes.shape[0], classes.shape[0]), np.float64)
    onehot[np.arange(codes.shape[0]), codes] = 1.0
    if drop == "last":
        return onehot[:, :-1], classes
    if drop == "first":
        return onehot[:, 1:], classes
    if drop is None:
        return onehot, classes
    raise ValueError(f"drop must be 'last', 'first' or None, got {drop!r}")


def _continuous_label_matrix(array, weights):
    if array.dtype.kind != "f":
        raise ValueError(
            f"2-D labels must be float (continuous), got dtype {array.dtype}; pass "
            "categorical labels as a 1-D array or cast continuous ones to float"
        )
    if not np.isfinite(array).all():
        raise ValueError("continuous labels contain NaN or inf; remove or fill them")
    check_weights(weights, array.shape[0])
    return np.asarray(array, np.float64)


def check_weights(weights, n):
    """Validate sample weights, or make unit weights.

    Parameters
    ----------
    weights : array_like of float, shape (n,), or None
        Non-negative finite weights with a positive sum. None means all ones.
    n : int
        Number of samples.

    Returns
    -------
    weights : ndarray of float64, shape (n,)
        A float64 copy of the weights.

    Raises
    ------
    ValueError
        If `weights` has the wrong shape, contains NaN, inf or negative values, or
        sums to zero.
    """
    if weights is None:
        return np.ones(n, np.float64)
    weights = np.array(weights, dtype=np.float64)
    if weights.shape != (n,):
        raise ValueError(
            f"weights must have shape ({n},), one per sample, got {weights.shape}"
        )
    if not np.isfinite(weights).all():
        raise ValueError("weights contain NaN or inf; pass finite weights")
    if (weights < 0).any():
        index = int(np.flatnonzero(weights < 0)[0])
        raise ValueError(
            f"weights must be non-negative, got {weights[index]} at index {index}"
        )
    if not weights.sum() > 0:
        raise ValueError("weights are all zero; at least one sample needs weight > 0")
    return weights


def label_covariance_matrix(x, U, weights=None):
    """Compute the weighted covariance between data and labels.

    ``q = sum_b w_b (x_b - <x>)(U_b - <U>)^T / sum_b w_b``, where ``<.>`` is the
    weighted mean over samples.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (n, N)
        Data, one sample per row.
    U : array_like of float, shape (n, K) or (n,)
        Label matrix from `label_matrix`. A 1-D `U` is one label column.
    weights : array_like of float, shape (n,), optional
        Sample weights. Integer weights give the same result as repeated rows.

    Returns
    -------
    q : ndarray of float64, shape (N, K)
        Covariance of each data column with each label column.
    """
    x = _as_data(x)
    U = _as_label_columns(U, x.shape[0])
    probabilities = _normalized_weights(weights, x.shape[0])

    x_mean = _weighted_mean(x, probabilities)
    U_centred = U - probabilities @ U
    weighted_U = probabilities[:, None] * U_centred

    q = np.zeros((x.shape[1], U.shape[1]), np.float64)
    for rows in _row_blocks(x.shape[0], x.shape[1]):
        q += (x[rows].astype(np.float64) - x_mean).T @ weighted_U[rows]
    return q


def potts_label_covariance(states, n_states, U, weights=None):
    """Compute `label_covariance_matrix` of the one-hot form of Potts states.

    The one-hot matrix is never built.  Row i q + a of q is the weighted sum
    of the centred labels over the samples whose site i is in state a.  The
    mean of the one-hot data drops out because the centred labels sum to 0.

    Parameters
    ----------
    states : array_like of int, shape (n, L)
        Category indices in [0, n_states).
    n_states : int
        States per site (q).
    U : array_like of float, shape (n, K) or (n,)
    weights : array_like of float, shape (n,), optional

    Returns
    -------
    q : ndarray of float64, shape (L n_states, K)
    """
    v = np.asarray(states)
    if v.ndim != 2 or v.shape[0] == 0:
        raise ValueError(f"states must be a non-empty 2-D (samples, sites) array, got "
                         f"shape {v.shape}")
    U = _as_label_columns(U, v.shape[0])
    probabilities = _normalized_weights(weights, v.shape[0])
    weighted_U = probabilities[:, None] * (U - probabilities @ U)
    n_sites = v.shape[1]
    n_flat = n_sites * n_states
    offsets = np.arange(n_sites, dtype=np.intp) * n_states
    q = np.zeros((n_flat, U.shape[1]), np.float64)
    step = max(1, 2**20 // n_sites)
    for start in range(0, v.shape[0], step):
        rows = slice(start, start + step)
        flat = (offsets + v[rows]).ravel()
        for k in range(U.shape[1]):
            q[:, k] += np.bincount(flat, np.repeat(weighted_U[rows, k], n_sites),
                                   minlength=n_flat)
    return q


def label_second_moment(x, U_column, weights=None):
    """Compute the label-weighted second moment of centred data.

    ``Q = sum_b w_b (u_b - <u>)(x_b - <x>)(x_b - <x>)^T / sum_b w_b`` for one
    label column u. Each block of rows costs one GEMM,
    ``(x - <x>)^T diag(w (u - <u>)) (x - <x>)``, with no loop over samples.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (n, N)
        Data, one sample per row.
    U_column : array_like of float, shape (n,) or (n, 1)
        One label column.
    weights : array_like of float, shape (n,), optional
        Sample weights. Integer weights give the same result as repeated rows.

    Returns
    -------
    Q : ndarray of float64, shape (N, N)
        Symmetric matrix.
    """
    x = _as_data(x)
    u = _as_label_columns(U_column, x.shape[0])
    if u.shape[1] != 1:
        raise ValueError(
            f"U_column must be one label column, got shape {u.shape}; call "
            "label_second_moment once per column"
        )
    probabilities = _normalized_weights(weights, x.shape[0])

    x_mean = _weighted_mean(x, probabilities)
    u = u[:, 0]
    row_factors = probabilities * (u - probabilities @ u)

    Q = np.zeros((x.shape[1], x.shape[1]), np.float64)
    for rows in _row_blocks(x.shape[0], x.shape[1]):
        x_centred = x[rows].astype(np.float64) - x_mean
        Q += x_centred.T @ (row_factors[rows, None] * x_centred)
    # The GEMM result is symmetric only up to rounding.
    return 0.5 * (Q + Q.T)


def _as_data(x):
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (samples, features), got shape {x.shape}")
    if x.dtype.kind not in "fiub":
        raise ValueError(f"x must be numeric, got dtype {x.dtype}")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if x.shape[0] == 0:
        raise ValueError("x has no rows; pass at least one sample")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or inf; remove or fill those values")
    return x


def _as_label_columns(U, n):
    U = np.asarray(U, dtype=np.float64)
    if U.ndim == 1:
        U = U[:, None]
    if U.ndim != 2 or U.shape[0] != n:
        raise ValueError(
            f"label matrix must have shape ({n}, K) to match x, got {U.shape}"
        )
    if not np.isfinite(U).all():
        raise ValueError("label matrix contains NaN or inf; pass finite labels")
    return U


def _normalized_weights(weights, n):
    weights = check_weights(weights, n)
    return weights / weights.sum()


def _weighted_mean(x, probabilities):
    """Return ``probabilities @ x`` in float64, converting x one block at a time."""
    mean = np.zeros(x.shape[1], np.float64)
    for rows in _row_blocks(x.shape[0], x.shape[1]):
        mean += probabilities[rows] @ x[rows].astype(np.float64, copy=False)
    return mean


def _row_blocks(n_rows, n_columns):
    """Yield slices of rows that keep each block near `_BLOCK_ELEMENTS` elements."""
    step = max(1, _BLOCK_ELEMENTS // max(1, n_columns))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))
