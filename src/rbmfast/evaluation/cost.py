"""Likelihood cost of disentangling a label in a Gaussian (linear) RBM.

The model has Gaussian visible units with unit precision and zero fields,
and M Gaussian hidden units with unit precision.  Integrating the hidden
units out gives p(v) = N(0, Sigma) with Sigma = (I - W W^T)^-1, which is
defined for ||W||_2 < 1.  For a data second-moment matrix C (the covariance
of centred data), the average log-likelihood is

    L(W) = -(1/2) [N log(2 pi) + log det Sigma + tr(Sigma^-1 C)].

The gain L(W) - L(0) = (1/2) [log det(I - W W^T) + tr(W^T C W)] depends on
W only through W W^T.  The trace inequality of von Neumann bounds it by
aligning W W^T with the top eigenvectors of C.  A direction with eigenvalue
lambda and squared singular value t contributes
(1/2) [log(1 - t) + t lambda], which is maximal at t = 1 - 1/lambda, where
it is g(lambda) = (lambda - 1 - log lambda) / 2.  Directions with
lambda <= 1 contribute 0 (t = 0).

The constraint q^T W = 0 on every hidden unit keeps the columns of W in
ker(q^T), so the same argument applies to C restricted to that subspace:
the eigenvalues of B^T C B, for B an orthonormal basis of ker(q^T), which
are the eigenvalues of P C P on range(P) with P = I - q pinv(q).  The cost
of disentanglement is the unconstrained optimal gain minus the constrained
one.

With n_free units free and the others constrained, the cost is 0 once
n_free >= rank(q): write the optimal W W^T as R R^T with R of shape (N, M),
and rotate R so that its last M - rank(q) columns lie in the null space of
q^T R.  For 0 < n_free < rank(q) no closed form is given here, and
`numerical_constrained_gain` maximises L(W) with L-BFGS.

Every value is in nats per sample and is computed in float64.

The measured cost of trained RBMs of any layer types is `empirical_cost`,
from `rbmfast.evaluation.empirical_cost`.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg
import scipy.optimize

from rbmfast.evaluation.empirical_cost import empirical_cost

__all__ = [
    "constrained_optimal_gain",
    "disentanglement_cost",
    "empirical_cost",
    "gaussian_gain",
    "gaussian_log_likelihood",
    "numerical_constrained_gain",
    "optimal_gain",
]

# Relative tolerance of the symmetry check on C, scaled by max |C_ij|.
_SYMMETRY_RTOL = 1e-10
# Standard deviation of the entries of the random starting points of
# `numerical_constrained_gain`, in the unbounded parametrisation X.
_INIT_SCALE = 0.5


def gaussian_gain(eigenvalues, n_hidden):
    """Sum the optimal per-direction gains g(lambda) of a Gaussian RBM.

    g(lambda) = (lambda - 1 - log lambda) / 2 is summed over the `n_hidden`
    largest eigenvalues that exceed 1.  Eigenvalues at or below 1 add 0.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,)
        Positive eigenvalues of a covariance matrix, in any order.
    n_hidden : int
        Number of hidden units, at least 0.  Values above n add nothing.

    Returns
    -------
    float
        Gain over W = 0 in nats per sample, at least 0.

    Raises
    ------
    ValueError
        If `eigenvalues` is not a 1-D array of finite positive numbers, or
        `n_hidden` is not an integer at least 0.
    """
    values = np.asarray(eigenvalues, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(
            f"eigenvalues must be a 1-D array, got shape {values.shape}; pass "
            "np.linalg.eigvalsh(C) for a covariance matrix C"
        )
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(
            f"eigenvalues must be finite and positive, got minimum "
            f"{values.min() if values.size else float('nan'):.6g}; the "
            "covariance matrix must be positive definite"
        )
    n_hidden = _check_count(n_hidden, "n_hidden")
    top = np.sort(values)[::-1][:n_hidden]
    top = top[top > 1.0]
    # log1p keeps g accurate for lambda near 1, where g is about (lambda - 1)^2 / 4.
    excess = top - 1.0
    return float(np.sum(0.5 * (excess - np.log1p(excess))))


def optimal_gain(C, n_hidden):
    """Compute the maximum of L(W) - L(0) over W with `n_hidden` columns.

    Parameters
    ----------
    C : array_like, shape (N, N)
        Symmetric positive definite second-moment matrix of centred data.
    n_hidden : int
        Number of hidden units, at least 0.

    Returns
    -------
    float
        Gain in nats per sample: the sum of g over the `n_hidden` largest
        eigenvalues of C that exceed 1.

    Raises
    ------
    ValueError
        If C is not a symmetric positive definite square matrix, or
        `n_hidden` is not an integer at least 0.
    """
    C = _check_covariance(C)
    return gaussian_gain(np.linalg.eigvalsh(C), n_hidden)


def constrained_optimal_gain(C, q, n_hidden):
    """Compute the maximum of L(W) - L(0) over W with q^T W = 0.

    Every one of the `n_hidden` columns of W is constrained to ker(q^T).

    Parameters
    ----------
    C : array_like, shape (N, N)
        Symmetric positive definite second-moment matrix of centred data.
    q : array_like, shape (N, K) or (N,)
        Constraint vectors, such as q = Cov(v, u) for a one-hot label u.  A
        1-D array is one vector (K = 1).  Linearly dependent columns are
        allowed, and ker(q^T) has dimension N - rank(q).
    n_hidden : int
        Number of hidden units, at least 0.

    Returns
    -------
    float
        Gain in nats per sample: the sum of g over the `n_hidden` largest
        eigenvalues above 1 of C restricted to ker(q^T).

    Raises
    ------
    ValueError
        If C is not a symmetric positive definite square matrix, q does not
        have N finite rows, or `n_hidden` is not an integer at least 0.
    """
    C = _check_covariance(C)
    q = _check_constraint_vectors(q, C.shape[0])
    n_hidden = _check_count(n_hidden, "n_hidden")
    basis = _kernel_basis(q)
    if basis.shape[1] == 0:
        return 0.0
    restricted = basis.T @ C @ basis
    restricted = 0.5 * (restricted + restricted.T)
    return gaussian_gain(np.linalg.eigvalsh(restricted), n_hidden)


def disentanglement_cost(C, q, n_hidden):
    """Compute the loss of optimal log-likelihood from q^T W = 0 on all units.

    Parameters
    ----------
    C : array_like, shape (N, N)
        Symmetric positive definite second-moment matrix of centred data.
    q : array_like, shape (N, K) or (N,)
        Constraint vectors, as in `constrained_optimal_gain`.
    n_hidden : int
        Number of hidden units, at least 0.

    Returns
    -------
    dict
        ``"unconstrained"`` and ``"constrained"``, the optimal gains over
        W = 0, and ``"cost"``, their difference, all floats in nats per
        sample.  The cost is at least 0 up to rounding.

    Raises
    ------
    ValueError
        On the invalid inputs listed in `constrained_optimal_gain`.
    """
    unconstrained = optimal_gain(C, n_hidden)
    constrained = constrained_optimal_gain(C, q, n_hidden)
    return {
        "unconstrained": unconstrained,
        "constrained": constrained,
        "cost": unconstrained - constrained,
    }


def gaussian_log_likelihood(W, C):
    """Compute the average log-likelihood L(W) of data with second moment C.

    L(W) = -(1/2) [N log(2 pi) + log det Sigma + tr(Sigma^-1 C)] with
    Sigma^-1 = I - W W^T, the marginal of a Gaussian RBM with unit
    precisions and zero fields.

    Parameters
    ----------
    W : array_like, shape (N, M)
        Weights, with largest singular value below 1.
    C : array_like, shape (N, N)
        Symmetric positive definite second-moment matrix of centred data.

    Returns
    -------
    float
        Average log-likelihood in nats per sample, computed in float64.

    Raises
    ------
    ValueError
        If W is not a finite (N, M) matrix, C is invalid, or the largest
        singular value of W is at least 1, in which case p(v) is not
        normalisable.
    """
    C = _check_covariance(C)
    W = _check_weights(W, C.shape[0])
    n = C.shape[0]
    return float(-0.5 * (n * np.log(2 * np.pi) + np.trace(C)) + _gain(W, C))


def numerical_constrained_gain(C, q, n_free, n_constrained, seed=0, n_restarts=4,
                               max_iterations=20000, return_weights=False):
    """Maximise L(W) - L(0) numerically with free and constrained columns.

    W = [W_free, W_constrained] has `n_free` unconstrained columns and
    `n_constrained` columns in ker(q^T).  The search runs L-BFGS on an
    unbounded matrix X = [X_free, B Z], with B an orthonormal basis of
    ker(q^T), mapped to W = X / sqrt(1 + ||X||_2^2).  The map scales X by a
    positive number, so it keeps the constrained columns in ker(q^T), and it
    is a bijection onto the matrices of that form with ||W||_2 < 1.

    Parameters
    ----------
    C : array_like, shape (N, N)
        Symmetric positive definite second-moment matrix of centred data.
    q : array_like, shape (N, K) or (N,)
        Constraint vectors, as in `constrained_optimal_gain`.
    n_free : int
        Number of unconstrained hidden units, at least 0.
    n_constrained : int
        Number of hidden units with q^T W = 0, at least 0.
    seed : int, default 0
        Seed of the random starting points.
    n_restarts : int, default 4
        Number of random starting points, at least 1.  The largest gain
        found is returned.
    max_iterations : int, default 20000
        Largest number of L-BFGS iterations per start.
    return_weights : bool, default False
        Also return the maximising W.

    Returns
    -------
    gain : float
        Largest gain over W = 0 found, in nats per sample.
    W : ndarray, shape (N, n_free + n_constrained)
        Maximising weights, free columns first.  Only with `return_weights`.

    Raises
    ------
    ValueError
        On invalid C or q, or counts that are not integers at least 0
        (at least 1 for `n_restarts`).

    Notes
    -----
    L-BFGS finds a local maximum from each start.  The gradient of ||X||_2
    is u_1 v_1^T, which is undefined where the top singular value of X is
    repeated, so a maximum with a repeated top singular value of W can be
    found less accurately.
    """
    C = _check_covariance(C)
    q = _check_constraint_vectors(q, C.shape[0])
    n_free = _check_count(n_free, "n_free")
    n_constrained = _check_count(n_constrained, "n_constrained")
    n_restarts = _check_count(n_restarts, "n_restarts")
    if n_restarts < 1:
        raise ValueError(f"n_restarts must be at least 1, got {n_restarts}")
    max_iterations = _check_count(max_iterations, "max_iterations")

    n = C.shape[0]
    basis = _kernel_basis(q)
    shape_free = (n, n_free)
    shape_reduced = (basis.shape[1], n_constrained)
    size_free = n * n_free

    def unpack(params):
        free = params[:size_free].reshape(shape_free)
        reduced = params[size_free:].reshape(shape_reduced)
        return np.concatenate([free, basis @ reduced], axis=1)

    def negative_gain(params):
        X = unpack(params)
        value, grad_X = _bounded_gain_and_gradient(X, C)
        grad = np.concatenate([grad_X[:, :n_free].ravel(),
                               (basis.T @ grad_X[:, n_free:]).ravel()])
        return -value, -grad

    n_params = size_free + shape_reduced[0] * n_constrained
    if n_params == 0:
        weights = np.zeros((n, n_free + n_constrained))
        return (0.0, weights) if return_weights else 0.0

    rng = np.random.default_rng(seed)
    best_gain, best_weights = 0.0, np.zeros((n, n_free + n_constrained))
    for _ in range(n_restarts):
        start = _INIT_SCALE * rng.standard_normal(n_params)
        result = scipy.optimize.minimize(
            negative_gain, start, jac=True, method="L-BFGS-B",
            options={"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-10,
                     "maxcor": 30},
        )
        if -result.fun > best_gain:
            best_gain = float(-result.fun)
            X = unpack(result.x)
            best_weights = X / np.sqrt(1.0 + np.linalg.norm(X, 2) ** 2)
    return (best_gain, best_weights) if return_weights else best_gain


# -- objective ------------------------------------------------------------------
def _gain(W, C):
    """Return L(W) - L(0) = (1/2) [log det(I - W^T W) + tr(W^T C W)].

    det(I - W W^T) = det(I - W^T W), so the determinant is M x M.
    """
    sign, log_det = np.linalg.slogdet(np.eye(W.shape[1]) - W.T @ W)
    if sign <= 0:
        raise ValueError(
            "I - W^T W is not positive definite in float64 although "
            "||W||_2 < 1; scale W down so its largest singular value is "
            "clearly below 1"
        )
    return 0.5 * (log_det + np.sum(W * (C @ W)))


def _bounded_gain_and_gradient(X, C):
    """Return the gain at W = X / sqrt(1 + mu) and its gradient in X.

    mu = ||X||_2^2 is the largest eigenvalue of X^T X = V diag(mu_i) V^T.
    The eigenvalues of I - W^T W are (1 + mu - mu_i) / (1 + mu).  The log
    determinant is formed from the numerators, which are at least 1, so it
    stays finite and accurate however large X is.
    """
    gram = X.T @ X
    mu_i, V = np.linalg.eigh(gram)
    mu_i = np.maximum(mu_i, 0.0)
    mu = mu_i[-1]
    CX = C @ X
    quadratic = np.sum(X * CX)
    shifted = 1.0 + mu - mu_i
    value = 0.5 * (np.sum(np.log(shifted)) - X.shape[1] * np.log1p(mu)
                   + quadratic / (1.0 + mu))

    # With mu held fixed, d value / dX = C X / (1 + mu) - X (I (1 + mu) - X^T X)^-1.
    inverse = (V / shifted) @ V.T
    grad_fixed = CX / (1.0 + mu) - X @ inverse
    # d value / d mu, then d mu / dX = 2 X v_1 v_1^T with v_1 the top eigenvector.
    dvalue_dmu = 0.5 * (np.sum(1.0 / shifted) - X.shape[1] / (1.0 + mu)
                        - quadratic / (1.0 + mu) ** 2)
    top = V[:, -1]
    grad = grad_fixed + dvalue_dmu * 2.0 * np.outer(X @ top, top)
    return value, grad


# -- input checks ---------------------------------------------------------------
def _check_covariance(C):
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] == 0:
        raise ValueError(f"C must be a non-empty square matrix, got shape {C.shape}")
    if not np.all(np.isfinite(C)):
        raise ValueError(
            "C contains NaN or infinite entries; pass a finite covariance matrix"
        )
    asymmetry = float(np.max(np.abs(C - C.T)))
    if asymmetry > _SYMMETRY_RTOL * float(np.max(np.abs(C))):
        raise ValueError(
            f"C must be symmetric, got max |C - C^T| = {asymmetry:.3g}; pass "
            "(C + C.T) / 2 if the asymmetry is rounding"
        )
    C = 0.5 * (C + C.T)
    try:
        np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        smallest = float(np.linalg.eigvalsh(C)[0])
        raise ValueError(
            f"C must be positive definite, got smallest eigenvalue {smallest:.6g}; "
            "drop constant or linearly dependent variables, or add a small "
            "multiple of the identity"
        ) from None
    return C


def _check_constraint_vectors(q, n_visible):
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 1:
        q = q[:, None]
    if q.ndim != 2 or q.shape[0] != n_visible:
        raise ValueError(
            f"q must have shape (N, K) or (N,) with N = {n_visible} rows to "
            f"match C, got shape {q.shape}"
        )
    if not np.all(np.isfinite(q)):
        raise ValueError(
            "q contains NaN or infinite entries; pass finite constraint vectors"
        )
    return q


def _check_weights(W, n_visible):
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != n_visible:
        raise ValueError(
            f"W must have shape (N, M) with N = {n_visible} rows to match C, "
            f"got shape {W.shape}"
        )
    if not np.all(np.isfinite(W)):
        raise ValueError("W contains NaN or infinite entries; pass finite weights")
    if W.shape[1] > 0:
        largest = float(np.linalg.norm(W, 2))
        if largest >= 1.0:
            raise ValueError(
                f"largest singular value of W is {largest:.6g}, but it must be "
                "below 1 for p(v) with Sigma = (I - W W^T)^-1 to be "
                "normalisable; scale W down"
            )
    return W


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be at least 0, got {value}")
    return int(value)


def _kernel_basis(q):
    """Return an orthonormal basis (N, N - rank(q)) of ker(q^T)."""
    if not np.any(q):
        return np.eye(q.shape[0])
    return scipy.linalg.null_space(q.T)
