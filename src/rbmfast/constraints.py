"""Disentangling constraints on groups of hidden units.

A label u is disentangled from a group G of hidden units when their inputs
I_G(v) = v W_G carry no information on it.  First order: q^T W_G = 0 with
q = Cov(v, u) (N x K), which makes the class-conditional means of I_mu equal;
it is enforced exactly by projecting W_G onto the null space of q^T after
every update.  Second order: W_mu^T Q_k W_mu = 0 with
Q_k = Cov(u_k, (v - <v>)(v - <v>)^T), which equalises the class-conditional
variances; it is a soft penalty (lambda_Q / 2) sum_k ||W_G^T Q_k W_G||_F^2.
The relative form divides each entry (mu, nu) of W_G^T Q_k W_G by the
input standard deviations sigma_mu sigma_nu, with sigma_mu^2 = W_mu^T C W_mu
and C the data covariance.  It is scale-free, so a unit cannot lower it by
shrinking its weights.
Units in no group are free: they are where the label information goes.

Weights of Potts layers (N, q, M) are flattened to (N q, M) here, with q
and Q indexed by the same flattened visible axis.
"""
from __future__ import annotations

import warnings

import numpy as np

from rbmfast.labels import check_weights, label_covariance_matrix, label_matrix
from rbmfast.labels import label_second_moment, potts_label_covariance

__all__ = ["ConstraintGroup", "Constraints", "label_constraints", "DEFAULT_MAX_Q_BYTES",
           "check_second_order_size", "translation_average"]

#: largest float64 storage of the Q matrices that is built without a rank
DEFAULT_MAX_Q_BYTES = 2**30


class ConstraintGroup:
    """A group of hidden units with its first- and second-order constraints.

    Parameters
    ----------
    units : array_like of int, shape (G,)
        Hidden unit indices of the group.
    q : ndarray, shape (n_visible, K), optional
        First-order constraint vectors; ``None`` or all zeros means none.
    Q : ndarray, shape (K2, n_visible, n_visible), optional
        Second-order matrices (symmetric).
    Q_factors : tuple (vectors (K2, n_visible, r), values (K2, r)), optional
        Low-rank Q_k = V_k diag(s_k) V_k^T, instead of `Q`.
    lambda_Q : float
        Strength of the second-order penalty.
    C : ndarray, shape (n_visible, n_visible), optional
        Covariance of the visible units.  With it the penalty is relative:
        (lambda_Q / 2) sum_k sum_{mu, nu} (W_mu^T Q_k W_nu)^2 / (c_mu c_nu),
        with c_mu = W_mu^T C W_mu the variance of input mu.
    """

    def __init__(self, units, q=None, Q=None, Q_factors=None, lambda_Q=0.0, C=None):
        units = np.asarray(units)
        if units.ndim != 1 or units.size == 0 or not np.issubdtype(units.dtype, np.integer):
            raise ValueError(f"group units must be a non-empty 1-D integer array, got {units!r}")
        if np.unique(units).size != units.size:
            raise ValueError(f"group units {units.tolist()} contain duplicates")
        self.units = np.sort(units.astype(np.int64))
        self.q = None if q is None else _finite_matrix(q, "q", 2)
        if Q is not None and Q_factors is not None:
            raise ValueError("give Q or Q_factors, not both")
        self.Q = None if Q is None else _finite_matrix(Q, "Q", 3)
        self.Q_factors = None
        if Q_factors is not None:
            vectors, values = Q_factors
            self.Q_factors = (_finite_matrix(vectors, "Q vectors", 3),
                              _finite_matrix(values, "Q values", 2))
        if not lambda_Q >= 0:
            raise ValueError(f"lambda_Q must be >= 0, got {lambda_Q}")
        self.lambda_Q = float(lambda_Q)
        if self.lambda_Q == 0 and (self.Q is not None or self.Q_factors is not None):
            warnings.warn("second-order matrices Q were given with lambda_Q = 0, so "
                          "they have no effect; set lambda_Q > 0 or drop Q",
                          stacklevel=2)
        self.C = None if C is None else _finite_matrix(C, "C", 2)
        if self.C is not None and (self.Q is None and self.Q_factors is None):
            raise ValueError("C (the relative second-order penalty) needs Q or "
                             "Q_factors; pass them or drop C")
        self._basis = None if self.q is None else _orthonormal_basis(self.q)
        self._Q_cache = {}

    @property
    def has_penalty(self):
        return self.lambda_Q > 0 and (self.Q is not None or self.Q_factors is not None)

    def _check_visible(self, n_flat):
        for name, rows in (("q", None if self.q is None else self.q.shape[0]),
                           ("Q", None if self.Q is None else self.Q.shape[1])):
            if rows is not None and rows != n_flat:
                raise ValueError(
                    f"{name} of a constraint group has {rows} visible rows, "
                    f"the weights have {n_flat}"
                )
        if self.Q_factors is not None and self.Q_factors[0].shape[1] != n_flat:
            raise ValueError("Q_factors do not match the number of visible units")
        if self.C is not None and self.C.shape != (n_flat, n_flat):
            raise ValueError(f"C of a constraint group has shape {self.C.shape}, the "
                             f"weights have {n_flat} visible rows")

    # -- first order --------------------------------------------------------
    def project(self, W):
        """Project W[:, units] (W flattened to (n_visible, M)) in place."""
        if self._basis is None or self._basis.shape[1] == 0:
            return
        basis = self._basis.astype(W.dtype, copy=False)
        block = _take_columns(W, self.units)
        block -= basis @ (basis.T @ block)
        _put_columns(W, self.units, block)

    def violation(self, W):
        """Return |q^T W_G|_F / (|q|_F |W_G|_F), 0 when W_G or q is zero."""
        if self.q is None:
            return 0.0
        block = W[:, self.units].astype(np.float64)
        denom = np.linalg.norm(self.q) * np.linalg.norm(block)
        return float(np.linalg.norm(self.q.T @ block) / denom) if denom > 0 else 0.0

    # -- second order -------------------------------------------------------
    @property
    def relative(self):
        """True when the penalty is divided by the input variances."""
        return self.C is not None

    def _Q_as(self, dtype):
        """Return Q or its factors cast to `dtype`, cached per dtype."""
        cache = self._Q_cache
        if dtype not in cache:
            if self.Q is not None:
                cache[dtype] = (self.Q.astype(dtype), None)
            else:
                vectors, values = self.Q_factors
                cache[dtype] = (None, (vectors.astype(dtype), values.astype(dtype)))
        return cache[dtype]

    def _C_as(self, dtype):
        key = ("C", dtype)
        if key not in self._Q_cache:
            self._Q_cache[key] = self.C.astype(dtype)
        return self._Q_cache[key]

    def _input_variances(self, block):
        """Return (c, C W_G): c_mu = W_mu^T C W_mu, or 1 where it is ~0."""
        CW = self._C_as(block.dtype) @ block
        c = np.sum(block * CW, axis=0)
        # A zero column has zero entries in M_k and no penalty.  Setting c = 1
        # there avoids 0 / 0.
        largest = c.max(initial=0.0)
        return np.where(c > np.finfo(block.dtype).eps * largest, c, 1.0), CW

    def _quadratic_forms(self, block):
        """Yield (M_k, Q_k W_G) with M_k = W_G^T Q_k W_G, or factors of them.

        For low-rank Q_k = V diag(s) V^T this yields (A^T diag(s) A, (V, s, A))
        with A = V^T W_G, never forming the n_visible x G product.
        """
        Q, factors = self._Q_as(block.dtype)
        if Q is not None:
            for Qk in Q:
                QW = Qk @ block
                yield block.T @ QW, QW
        else:
            vectors, values = factors
            for Vk, sk in zip(vectors, values):
                A = Vk.T @ block
                yield A.T @ (sk[:, None] * A), (Vk, sk, A)

    def penalty(self, W):
        """Return (lambda_Q / 2) sum_k ||W_G^T Q_k W_G||_F^2, or its relative form."""
        if not self.has_penalty:
            return 0.0
        block = W[:, self.units].astype(np.float64)
        scale = 1.0
        if self.relative:
            c, _ = self._input_variances(block)
            scale = 1.0 / np.outer(c, c)
        total = sum(np.sum(Mk**2 * scale) for Mk, _ in self._quadratic_forms(block))
        return 0.5 * self.lambda_Q * float(total)

    def add_penalty_gradient(self, W, grad):
        """Add the gradient of `penalty` to grad[:, units].

        Absolute form: 2 lambda_Q sum_k Q_k W_G M_k with M_k = W_G^T Q_k W_G.
        Relative form: with B_k = M_k / (c c^T) and r_k,mu = sum_nu
        M_k,mu nu^2 / (c_mu^2 c_nu), the gradient is 2 lambda_Q sum_k
        (Q_k W_G B_k - C W_G diag(r_k)).  Computed in the dtype of `W` (Q is
        cast once and cached), since this runs at every update.
        """
        if not self.has_penalty:
            return
        block = _take_columns(W, self.units)
        g = np.zeros_like(block)
        if self.relative:
            c, CW = self._input_variances(block)
        for Mk, QW in self._quadratic_forms(block):
            factor = Mk / np.outer(c, c) if self.relative else Mk
            if isinstance(QW, tuple):
                # Q_k W_G X = V diag(s) (A X), an r x G product first
                Vk, sk, A = QW
                g += Vk @ (sk[:, None] * (A @ factor))
            else:
                g += QW @ factor
            if self.relative:
                g -= CW * (((Mk**2) @ (1.0 / c)) / c**2)[None, :]
        grad[:, self.units] += (2 * self.lambda_Q * g).astype(grad.dtype)


class Constraints:
    """Disjoint constraint groups over the hidden units of an RBM.

    Parameters
    ----------
    groups : list of ConstraintGroup
    n_hidden : int
        Number of hidden units; units in no group are free.
    """

    def __init__(self, groups, n_hidden):
        self.groups = list(groups)
        self.n_hidden = int(n_hidden)
        owner = np.full(self.n_hidden, -1)
        for g, group in enumerate(self.groups):
            units = group.units
            if units.min() < 0 or units.max() >= self.n_hidden:
                raise ValueError(
                    f"constraint group {g} has units {units.tolist()} outside "
                    f"0..{self.n_hidden - 1}"
                )
            taken = units[owner[units] >= 0]
            if taken.size:
                raise ValueError(
                    f"constraint groups overlap: units {taken.tolist()} are in group "
                    f"{owner[taken[0]]} and group {g}; groups must be disjoint"
                )
            owner[units] = g
        self.free_units = np.flatnonzero(owner < 0)
        self.constrained_units = np.flatnonzero(owner >= 0)

    @property
    def has_penalty(self):
        return any(group.has_penalty for group in self.groups)

    def check_weights(self, weights):
        """Raise ValueError when q or Q do not fit `weights`."""
        flat = _flat(weights)
        if flat.shape[1] != self.n_hidden:
            raise ValueError(
                f"constraints are for {self.n_hidden} hidden units, the weights have "
                f"{flat.shape[1]}"
            )
        for group in self.groups:
            group._check_visible(flat.shape[0])

    def project(self, weights):
        """Enforce every first-order constraint on `weights` in place."""
        flat = _flat(weights)
        for group in self.groups:
            group.project(flat)

    def violation(self, weights):
        """Return the largest relative violation |q^T W_G| / (|q| |W_G|)."""
        flat = _flat(weights)
        return max((group.violation(flat) for group in self.groups), default=0.0)

    def penalty(self, weights):
        """Return the total second-order penalty."""
        flat = _flat(weights)
        return sum(group.penalty(flat) for group in self.groups)

    def add_penalty_gradient(self, weights, grad):
        """Add the second-order penalty gradient to `grad` in place."""
        flat, gflat = _flat(weights), _flat(grad)
        for group in self.groups:
            group.add_penalty_gradient(flat, gflat)

    # -- storage ------------------------------------------------------------
    def to_arrays(self):
        """Return (arrays, content) describing the groups for a model file."""
        arrays, groups = {}, []
        for g, group in enumerate(self.groups):
            arrays[f"constraints/{g}/units"] = group.units
            if group.q is not None:
                arrays[f"constraints/{g}/q"] = group.q
            if group.Q is not None:
                arrays[f"constraints/{g}/Q"] = group.Q
            if group.Q_factors is not None:
                arrays[f"constraints/{g}/Q_vectors"] = group.Q_factors[0]
                arrays[f"constraints/{g}/Q_values"] = group.Q_factors[1]
            if group.C is not None:
                arrays[f"constraints/{g}/C"] = group.C
            groups.append({"lambda_Q": group.lambda_Q})
        return arrays, {"n_hidden": self.n_hidden, "groups": groups}

    @classmethod
    def from_arrays(cls, arrays, content):
        """Rebuild constraints written by :meth:`to_arrays`."""
        groups = []
        for g, meta in enumerate(content["groups"]):
            prefix = f"constraints/{g}/"
            factors = None
            if prefix + "Q_vectors" in arrays:
                factors = (arrays[prefix + "Q_vectors"], arrays[prefix + "Q_values"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                groups.append(ConstraintGroup(
                    arrays[prefix + "units"], q=arrays.get(prefix + "q"),
                    Q=arrays.get(prefix + "Q"), Q_factors=factors,
                    lambda_Q=meta["lambda_Q"], C=arrays.get(prefix + "C")))
        return cls(groups, content["n_hidden"])


def label_constraints(data, labels, n_hidden, n_free=1, weights=None,
                      free_units=None, lambda_Q=0.0, Q_rank=None,
                      max_Q_bytes=DEFAULT_MAX_Q_BYTES, first_order=True,
                      n_states=None, relative_Q=False, periodic_lattice=None):
    """Build one constraint group on all hidden units but the free ones.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_visible)
        Training data; for Potts data (`n_states` set) the category indices,
        whose one-hot statistics give q and Q per (site, state).
    labels : array_like, shape (n_samples,) or (n_samples, L)
        Categorical labels (one class column dropped: K - 1 constraints) or
        a float (n_samples, L) array of continuous labels.
    n_hidden : int
    n_free : int
        Number of free units, the first `n_free` hidden units unless
        `free_units` names them.
    weights : ndarray, shape (n_samples,), optional
        Sample weights of the label statistics.
    lambda_Q : float
        Second-order penalty strength; Q is only computed when > 0.
    Q_rank : int, optional
        Keep the `Q_rank` largest-magnitude eigenpairs of each Q_k.
    max_Q_bytes : int
        Reject full Q matrices that would need more float64 storage.
    first_order : bool
        Add the hard first-order constraint (False for a penalty alone).
    n_states : int, optional
        States per site when `data` contains Potts category indices.
    relative_Q : bool
        Divide the penalty by the input variances (`ConstraintGroup`, C):
        stores the weighted covariance of the data as well as Q.
    periodic_lattice : sequence of int, optional
        Shape of a periodic lattice whose sites are the visible units, in C
        order (``(L, L)`` for L x L Ising lattices).  q, Q and C are then
        averaged over the lattice translations (`translation_average`).
        For data whose distribution is translation invariant this keeps
        their expectations and removes most of their sampling noise, which
        the penalty would otherwise fit.
    """
    x = np.asarray(data) if n_states is not None else np.asarray(data, np.float64)
    if x.ndim != 2:
        raise ValueError(f"data must be 2-D (n_samples, n_visible), got shape {x.shape}")
    codes = None
    if periodic_lattice is not None:
        if n_states is not None:
            raise ValueError("periodic_lattice applies to one value per site, not to "
                             "Potts data; drop periodic_lattice")
        codes = _displacement_codes(periodic_lattice, x.shape[1])
    w = check_weights(weights, x.shape[0])
    if np.ndim(labels) == 0 or len(labels) != x.shape[0]:
        raise ValueError(
            f"labels have length {np.size(labels)} but data has {x.shape[0]} samples"
        )
    U, _ = label_matrix(labels, weights=w)
    free = _free_units(n_hidden, n_free, free_units)
    units = np.setdiff1d(np.arange(n_hidden), free)
    if units.size == 0:
        return Constraints([], n_hidden)
    q = None
    if first_order:
        if n_states is None:
            q = label_covariance_matrix(x, U, w)
            x_range = np.ptp(x)
        else:
            # one-hot entries lie in [0, 1]
            q, x_range = potts_label_covariance(x, n_states, U, w), 1.0
        if codes is not None:
            # the translation average of a vector is its mean on every site
            q = np.broadcast_to(q.mean(axis=0), q.shape).copy()
        q = _drop_rounding_columns(q, x.shape[0], x_range, U)
    Q = factors = C = None
    if lambda_Q > 0:
        if n_states is not None:
            x = _potts_one_hot(x, n_states, max_Q_bytes)
        check_second_order_size(x.shape[1], U.shape[1], Q_rank, max_Q_bytes,
                                relative_Q)
        Q, factors = _second_order(x, U, w, Q_rank, codes)
        if relative_Q:
            C = _weighted_covariance(x, w)
            if codes is not None:
                C = _average_over_translations(C, codes)
    group = ConstraintGroup(units, q=q, Q=Q, Q_factors=factors, lambda_Q=lambda_Q,
                            C=C)
    return Constraints([group], n_hidden)


def _free_units(n_hidden, n_free, free_units):
    if free_units is not None:
        free = np.unique(np.asarray(free_units, dtype=np.int64))
        if free.size and (free.min() < 0 or free.max() >= n_hidden):
            raise ValueError(f"free units {free.tolist()} outside 0..{n_hidden - 1}")
        return free
    if isinstance(n_free, bool) or not isinstance(n_free, (int, np.integer)) or n_free < 0:
        raise ValueError(f"n_free must be a non-negative integer, got {n_free!r}")
    if n_free > n_hidden:
        raise ValueError(
            f"n_free = {n_free} is more than the {n_hidden} hidden units; "
            "use at most n_hidden free units"
        )
    return np.arange(n_free)


def check_second_order_size(n_visible, n_label_columns, Q_rank=None,
                            max_Q_bytes=DEFAULT_MAX_Q_BYTES, relative_Q=False,
                            fix="pass a low rank (Q_rank) or raise max_Q_bytes"):
    """Raise ValueError when the full second-order matrices exceed `max_Q_bytes`.

    The full matrices are one Q_k per label column unless `Q_rank` is set,
    and the data covariance C of the relative penalty when `relative_Q`.
    `label_constraints` makes this check itself; call it to reject a setting
    before any work.  `fix` ends the message, so that a caller can name its
    own options.
    """
    n_matrices = (0 if Q_rank is not None else n_label_columns) + bool(relative_Q)
    full_bytes = 8 * n_matrices * n_visible * n_visible
    if full_bytes > max_Q_bytes:
        raise ValueError(
            f"second-order matrices need {full_bytes / 2**20:.0f} MiB "
            f"({n_matrices} x {n_visible} x {n_visible} float64), over the "
            f"limit of {max_Q_bytes / 2**20:.0f} MiB; {fix}"
        )


def translation_average(matrix, shape):
    """Average an (N, N) matrix over the translations of a periodic lattice.

    The result is M'[i, j] = mean over translations t of M[t(i), t(j)]:
    entry (i, j) depends only on the displacement r_j - r_i, modulo the
    lattice `shape` (N = prod(shape) sites in C order).  Memory: two N x N
    index arrays (N = 4096 for a 64 x 64 lattice needs about 400 MB).
    """
    matrix = np.asarray(matrix)
    if matrix.dtype.kind not in "iuf":
        raise ValueError(f"matrix must be real, got dtype {matrix.dtype}")
    matrix = matrix.astype(np.float64, copy=False)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square, got shape {matrix.shape}")
    return _average_over_translations(matrix, _displacement_codes(shape,
                                                                  matrix.shape[0]))


def _displacement_codes(shape, n_sites):
    """Return the (N, N) flat index of r_j - r_i, modulo the periodic `shape`."""
    valid = (not isinstance(shape, (str, bytes)) and np.ndim(shape) == 1
             and len(shape) > 0
             and all(isinstance(side, (int, np.integer)) and not isinstance(side, bool)
                     and side >= 1 for side in shape))
    if not valid:
        raise ValueError(f"periodic_lattice must be a sequence of positive lattice "
                         f"sides such as (16, 16), got {shape!r}")
    shape = tuple(int(side) for side in shape)
    if int(np.prod(shape)) != n_sites:
        raise ValueError(f"periodic_lattice {shape} has {int(np.prod(shape))} sites "
                         f"but the data have {n_sites} visible units; give the "
                         "shape whose product is the number of visible units")
    coords = np.indices(shape).reshape(len(shape), -1)
    sides = np.array(shape)[:, None, None]
    return np.ravel_multi_index((coords[:, None, :] - coords[:, :, None]) % sides,
                                shape)


def _average_over_translations(matrix, codes):
    n = codes.shape[0]
    by_displacement = np.bincount(codes.ravel(), weights=matrix.ravel(),
                                  minlength=n) / n
    return by_displacement[codes]


def _second_order(x, U, w, rank, codes=None):
    n, K = x.shape[1], U.shape[1]

    def moment(k):
        Q = label_second_moment(x, U[:, k], w)
        return Q if codes is None else _average_over_translations(Q, codes)

    if rank is None:
        # filled in place: stacking a list would hold every Q_k twice, which
        # check_second_order_size does not count
        Q = np.empty((K, n, n))
        for k in range(K):
            Q[k] = moment(k)
        return Q, None
    if not 1 <= rank <= n:
        raise ValueError(f"Q_rank must be in 1..{n}, got {rank}")
    vectors, values = [], []
    for k in range(K):
        s, V = np.linalg.eigh(moment(k))
        keep = np.argsort(-np.abs(s))[:rank]
        vectors.append(V[:, keep])
        values.append(s[keep])
    return None, (np.stack(vectors), np.stack(values))


def _weighted_covariance(x, w):
    """Return sum_b w_b (x_b - <x>)(x_b - <x>)^T / sum_b w_b, in float64."""
    x = np.asarray(x, dtype=np.float64)
    p = w / w.sum()
    centred = x - p @ x
    return (centred * p[:, None]).T @ centred


def _potts_one_hot(x, n_states, max_bytes):
    """One-hot Potts data for the second-order statistics, size-checked."""
    n_flat = x.shape[1] * n_states
    nbytes = 8 * x.shape[0] * n_flat
    if nbytes > max_bytes:
        raise ValueError(
            f"second-order constraints on Potts data need the one-hot data, "
            f"{nbytes / 2**20:.0f} MiB ({x.shape[0]} x {n_flat} float64), over the "
            f"limit of {max_bytes / 2**20:.0f} MiB; use lambda_Q = 0 (first order "
            "only), fewer samples, or raise max_Q_bytes"
        )
    out = np.zeros((x.shape[0], n_flat))
    flat = np.arange(x.shape[1]) * n_states + x.astype(np.intp)
    np.put_along_axis(out, flat, 1.0, axis=1)
    return out


def _drop_rounding_columns(q, n_samples, x_range, U):
    """Return q with the columns that are zero up to rounding set to exactly 0.

    Entry (i, k) of q is a weighted mean of n products (x_bi - <x_i>)(U_bk -
    <U_k>).  Each factor is bounded by the range (max - min) of its values, so
    the float64 rounding error of the entry is at most about n eps range(x)
    range(U_k).  Data whose class means are equal by construction (spins
    together with their global flips, for example) give a q of rounding
    noise, and projecting it out would remove random directions from the
    constrained units.
    """
    tolerance = n_samples * np.finfo(np.float64).eps * x_range * np.ptp(U, axis=0)
    q = q.copy()
    q[:, np.abs(q).max(axis=0) <= tolerance] = 0.0
    return q


def _orthonormal_basis(q):
    """Return an orthonormal basis (N, r) of the column space of q."""
    if not np.any(q):
        return np.zeros((q.shape[0], 0))
    U, s, _ = np.linalg.svd(q, full_matrices=False)
    tol = max(q.shape) * np.finfo(np.float64).eps * s[0]
    return np.ascontiguousarray(U[:, s > tol])


def _finite_matrix(m, name, ndim):
    arr = np.asarray(m, dtype=np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains non-finite values")
    return arr


def _flat(weights):
    return weights.reshape(-1, weights.shape[-1])


def _take_columns(W, units):
    if units[-1] - units[0] + 1 == units.size:
        return W[:, units[0]:units[-1] + 1].copy()
    return W[:, units]


def _put_columns(W, units, block):
    if units[-1] - units[0] + 1 == units.size:
        W[:, units[0]:units[-1] + 1] = block
    else:
        W[:, units] = block
