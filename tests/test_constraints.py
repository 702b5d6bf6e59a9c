"""Tests of the constraint groups: projection, penalty, validation."""
import warnings

import numpy as np
import pytest

from rbmfast.constraints import (ConstraintGroup, Constraints, check_second_order_size,
                                 label_constraints, translation_average)


def random_q(n=12, k=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, k))


def test_projection_annihilates_q():
    q = random_q()
    W = np.random.default_rng(1).normal(size=(12, 6))
    group = ConstraintGroup([1, 2, 4], q=q)
    group.project(W)
    assert np.abs(q.T @ W[:, [1, 2, 4]]).max() < 1e-12


def test_projection_leaves_free_columns():
    q = random_q()
    W = np.random.default_rng(1).normal(size=(12, 6))
    before = W.copy()
    ConstraintGroup([1, 2, 4], q=q).project(W)
    assert np.array_equal(W[:, [0, 3, 5]], before[:, [0, 3, 5]])


def test_projection_is_orthogonal():
    # Pythagoras: |W|^2 = |P W|^2 + |W - P W|^2 for an orthogonal projection
    q = random_q()
    W = np.random.default_rng(2).normal(size=(12, 4))
    P = W.copy()
    ConstraintGroup([0, 1, 2, 3], q=q).project(P)
    lhs = np.sum(W**2)
    rhs = np.sum(P**2) + np.sum((W - P) ** 2)
    assert lhs == pytest.approx(rhs, rel=1e-12)
    assert np.abs(np.sum(P * (W - P))) < 1e-10


def test_projection_idempotent():
    W = np.random.default_rng(3).normal(size=(12, 4))
    group = ConstraintGroup([0, 1, 2, 3], q=random_q())
    group.project(W)
    once = W.copy()
    group.project(W)
    assert np.allclose(W, once, rtol=0, atol=1e-14)


def test_zero_q_is_identity():
    W = np.random.default_rng(4).normal(size=(12, 4))
    before = W.copy()
    ConstraintGroup([0, 1], q=np.zeros((12, 3))).project(W)
    assert np.array_equal(W, before)


def test_rank_deficient_q():
    # Two identical columns span one direction; the projection removes it.
    col = random_q(k=1)
    q = np.hstack([col, col])
    W = np.random.default_rng(5).normal(size=(12, 3))
    ConstraintGroup([0, 1, 2], q=q).project(W)
    assert np.abs(col.T @ W).max() < 1e-12


def test_projection_float32_weights():
    q = random_q()
    W = np.random.default_rng(6).normal(size=(12, 3)).astype(np.float32)
    ConstraintGroup([0, 1, 2], q=q).project(W)
    assert W.dtype == np.float32
    rel = np.linalg.norm(q.T @ W) / (np.linalg.norm(q) * np.linalg.norm(W))
    # float32 rounding of the projected weights: a few float32 epsilons
    assert rel < 1e-6


def test_potts_shaped_weights_flattened():
    q = random_q(n=12)
    W = np.random.default_rng(7).normal(size=(4, 3, 5))
    cons = Constraints([ConstraintGroup([0, 1], q=q)], 5)
    cons.project(W)
    assert np.abs(q.T @ W.reshape(12, 5)[:, :2]).max() < 1e-12


def test_overlapping_groups_rejected():
    q = random_q()
    with pytest.raises(ValueError, match=r"overlap: units \[2\]"):
        Constraints([ConstraintGroup([0, 1, 2], q=q), ConstraintGroup([2, 3], q=q)], 5)


def test_group_out_of_range_rejected():
    with pytest.raises(ValueError, match="outside 0..4"):
        Constraints([ConstraintGroup([3, 5], q=random_q())], 5)


def test_free_units_are_the_rest():
    q = random_q()
    cons = Constraints([ConstraintGroup([1, 3], q=q), ConstraintGroup([4], q=q)], 6)
    assert cons.free_units.tolist() == [0, 2, 5]
    assert cons.constrained_units.tolist() == [1, 3, 4]


def test_duplicate_units_rejected():
    with pytest.raises(ValueError, match="duplicates"):
        ConstraintGroup([1, 1], q=random_q())


def test_nonfinite_q_rejected():
    q = random_q()
    q[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        ConstraintGroup([0], q=q)


def test_q_shape_checked_against_weights():
    cons = Constraints([ConstraintGroup([0], q=random_q(n=7))], 3)
    with pytest.raises(ValueError, match="7 visible rows"):
        cons.check_weights(np.zeros((12, 3)))


def test_penalty_gradient_finite_differences():
    rng = np.random.default_rng(8)
    A = rng.normal(size=(2, 6, 6))
    Q = A + A.transpose(0, 2, 1)
    group = ConstraintGroup([0, 2], Q=Q, lambda_Q=0.7)
    W = rng.normal(size=(6, 3))
    grad = np.zeros_like(W)
    group.add_penalty_gradient(W, grad)
    eps = 1e-6
    numeric = np.zeros_like(W)
    for i in range(6):
        for j in range(3):
            Wp, Wm = W.copy(), W.copy()
            Wp[i, j] += eps
            Wm[i, j] -= eps
            numeric[i, j] = (group.penalty(Wp) - group.penalty(Wm)) / (2 * eps)
    # central differences of a quartic: error ~ eps^2 * |d^3 f| ~ 1e-10
    assert np.allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    assert np.all(grad[:, 1] == 0)


def _relative_group(rng, factors=False):
    A = rng.normal(size=(2, 6, 6))
    Q = A + A.transpose(0, 2, 1)
    B = rng.normal(size=(6, 6))
    C = B @ B.T + 0.1 * np.eye(6)
    if factors:
        values, vectors = np.linalg.eigh(Q)
        return ConstraintGroup([0, 2], Q_factors=(vectors, values), lambda_Q=0.7, C=C)
    return ConstraintGroup([0, 2], Q=Q, lambda_Q=0.7, C=C)


def _numeric_gradient(group, W, eps=1e-6):
    numeric = np.zeros_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            Wp, Wm = W.copy(), W.copy()
            Wp[i, j] += eps
            Wm[i, j] -= eps
            numeric[i, j] = (group.penalty(Wp) - group.penalty(Wm)) / (2 * eps)
    return numeric


@pytest.mark.parametrize("factors", [False, True])
def test_relative_penalty_gradient_finite_differences(factors):
    rng = np.random.default_rng(18)
    group = _relative_group(rng, factors)
    assert group.relative
    W = rng.normal(size=(6, 3))
    grad = np.zeros_like(W)
    group.add_penalty_gradient(W, grad)
    assert np.allclose(grad, _numeric_gradient(group, W), rtol=1e-6, atol=1e-8)
    assert np.all(grad[:, 1] == 0)


def test_relative_penalty_is_scale_free():
    # (W_mu^T Q W_nu)^2 / (c_mu c_nu) does not change when a column is scaled,
    # so shrinking a unit cannot lower it.  The absolute penalty drops as s^4.
    rng = np.random.default_rng(19)
    group = _relative_group(rng)
    W = rng.normal(size=(6, 3))
    scaled = W.copy()
    scaled[:, 2] *= 1e-3
    assert group.penalty(scaled) == pytest.approx(group.penalty(W), rel=1e-10)
    absolute = ConstraintGroup([0, 2], Q=group.Q, lambda_Q=0.7)
    assert absolute.penalty(scaled) < 0.5 * absolute.penalty(W)


def test_relative_penalty_of_zero_column_is_finite():
    rng = np.random.default_rng(20)
    group = _relative_group(rng)
    W = rng.normal(size=(6, 3))
    W[:, 2] = 0
    grad = np.zeros_like(W)
    group.add_penalty_gradient(W, grad)
    assert np.isfinite(group.penalty(W))
    assert np.all(np.isfinite(grad))
    assert np.all(grad[:, 2] == 0)


def test_relative_constraints_store_data_covariance():
    rng = np.random.default_rng(21)
    x = (rng.random((300, 5)) < 0.4).astype(float)
    y = rng.integers(0, 3, 300)
    cons = label_constraints(x, y, 4, 1, lambda_Q=1.0, relative_Q=True)
    np.testing.assert_allclose(cons.groups[0].C, np.cov(x.T, bias=True), atol=1e-12)
    arrays, content = cons.to_arrays()
    restored = Constraints.from_arrays(arrays, content)
    W = rng.normal(size=(5, 4))
    assert restored.groups[0].relative
    assert restored.penalty(W) == cons.penalty(W)


def test_relative_constraints_need_lambda():
    x = np.random.default_rng(22).random((50, 6))
    y = np.arange(50) % 2
    cons = label_constraints(x, y, 4, 1, relative_Q=True)
    assert cons.groups[0].C is None


def test_C_without_Q_rejected():
    with pytest.raises(ValueError, match="needs Q"):
        ConstraintGroup([0], C=np.eye(4), lambda_Q=1.0)


def test_low_rank_Q_matches_full_rank():
    rng = np.random.default_rng(9)
    x = (rng.random((400, 8)) < 0.4).astype(float)
    y = rng.integers(0, 2, 400)
    x[y == 1, :3] = (rng.random(((y == 1).sum(), 3)) < 0.9)
    full = label_constraints(x, y, 4, 1, lambda_Q=1.0)
    low = label_constraints(x, y, 4, 1, lambda_Q=1.0, Q_rank=8)
    W = rng.normal(size=(8, 4))
    assert low.penalty(W) == pytest.approx(full.penalty(W), rel=1e-10)


def test_Q_memory_limit():
    x = np.random.default_rng(10).random((50, 40))
    y = np.arange(50) % 3
    with pytest.raises(ValueError, match="Q_rank"):
        label_constraints(x, y, 4, 1, lambda_Q=1.0, max_Q_bytes=1000)


@pytest.mark.parametrize("Q_rank, relative_Q, n_matrices", [
    (None, False, 2), (None, True, 3), (5, True, 1)])
def test_second_order_size_counts_matrices(Q_rank, relative_Q, n_matrices):
    # 40 x 40 float64 matrices take 12,800 bytes each
    limit = 12_800 * n_matrices
    check_second_order_size(40, 2, Q_rank, limit, relative_Q)
    with pytest.raises(ValueError, match=f"{n_matrices} x 40 x 40 float64"):
        check_second_order_size(40, 2, Q_rank, limit - 1, relative_Q)


def test_second_order_size_low_rank_allowed():
    check_second_order_size(40, 2, Q_rank=5, max_Q_bytes=1)


def test_second_order_size_names_fix():
    with pytest.raises(ValueError, match="limit of 0 MiB; use fewer classes"):
        check_second_order_size(40, 2, max_Q_bytes=1, fix="use fewer classes")


def test_Q_with_zero_lambda_warns():
    with pytest.warns(UserWarning, match="lambda_Q = 0"):
        ConstraintGroup([0], Q=np.zeros((1, 4, 4)))


def test_no_Q_without_lambda():
    x = np.random.default_rng(11).random((50, 6))
    y = np.arange(50) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cons = label_constraints(x, y, 4, 1)
    assert cons.groups[0].Q is None
    assert not cons.has_penalty


def test_label_constraints_q_is_covariance():
    rng = np.random.default_rng(12)
    x = rng.random((300, 5))
    y = rng.integers(0, 3, 300)
    cons = label_constraints(x, y, 6, 2)
    onehot = np.eye(3)[y][:, :2]
    expected = (x - x.mean(0)).T @ (onehot - onehot.mean(0)) / 300
    assert np.allclose(cons.groups[0].q, expected, rtol=1e-12, atol=1e-15)
    assert cons.free_units.tolist() == [0, 1]


def test_label_constraints_weights():
    # integer sample weights equal duplicated rows
    rng = np.random.default_rng(13)
    x = rng.random((40, 5))
    y = rng.integers(0, 2, 40)
    w = rng.integers(1, 4, 40)
    weighted = label_constraints(x, y, 3, 1, weights=w).groups[0].q
    repeated = label_constraints(np.repeat(x, w, axis=0), np.repeat(y, w), 3, 1)
    assert np.allclose(weighted, repeated.groups[0].q, rtol=1e-12, atol=1e-15)


def test_too_many_free_units_rejected():
    x = np.random.default_rng(14).random((20, 5))
    with pytest.raises(ValueError, match="n_free = 7 is more than the 6"):
        label_constraints(x, np.arange(20) % 2, 6, 7)


def test_all_free_gives_no_group():
    x = np.random.default_rng(15).random((20, 5))
    cons = label_constraints(x, np.arange(20) % 2, 3, 3)
    assert cons.groups == []
    assert cons.free_units.tolist() == [0, 1, 2]


def test_continuous_label():
    rng = np.random.default_rng(16)
    x = rng.random((100, 5))
    t = rng.normal(size=(100, 1))
    cons = label_constraints(x, t, 3, 1)
    assert cons.groups[0].q.shape == (5, 1)


def test_round_trip_arrays():
    rng = np.random.default_rng(17)
    x = rng.random((60, 6))
    y = rng.integers(0, 3, 60)
    cons = label_constraints(x, y, 5, 2, lambda_Q=0.5)
    arrays, content = cons.to_arrays()
    again = Constraints.from_arrays(arrays, content)
    assert np.array_equal(again.groups[0].q, cons.groups[0].q)
    assert np.array_equal(again.groups[0].Q, cons.groups[0].Q)
    assert again.groups[0].lambda_Q == 0.5
    assert again.free_units.tolist() == [0, 1]


def flip_symmetric_spins(n=500, n_visible=16, seed=0):
    """Spins with a label, each row present together with its global flip."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = np.where(rng.random((n, n_visible)) < 0.3 + 0.1 * y[:, None], 1.0, -1.0)
    return np.concatenate([x, -x]), np.concatenate([y, y])


def test_rounding_q_of_symmetric_data_is_zero():
    # Every class mean is exactly 0, so q is rounding noise: projecting it out
    # would remove 3 random directions.
    x, y = flip_symmetric_spins()
    group = label_constraints(x, y, 6, n_free=1).groups[0]
    assert group.q.shape == (16, 3)
    assert not np.any(group.q)
    W = np.random.default_rng(1).normal(size=(16, 6))
    before = W.copy()
    group.project(W)
    np.testing.assert_array_equal(W, before)


def test_small_real_q_kept():
    # One flipped row less leaves class means of order 1 / n, far above the
    # rounding of q.
    x, y = flip_symmetric_spins()
    group = label_constraints(x[1:], y[1:], 6, n_free=1).groups[0]
    assert np.abs(group.q).max() > 1e-5
    assert group._basis.shape[1] > 0


# -- translation averages on a periodic lattice ------------------------------------
def shift_permutation(shape, shift):
    """Return the site permutation of a periodic translation by `shift`."""
    sites = np.arange(int(np.prod(shape))).reshape(shape)
    return np.roll(sites, shift, axis=tuple(range(len(shape)))).ravel()


def test_translation_average_matches_brute_force():
    shape = (3, 4)
    M = np.random.default_rng(20).normal(size=(12, 12))
    shifts = [(a, b) for a in range(3) for b in range(4)]
    expected = np.mean([M[np.ix_(p, p)] for p in
                        (shift_permutation(shape, s) for s in shifts)], axis=0)

    np.testing.assert_allclose(translation_average(M, shape), expected, atol=1e-12)


def test_translation_average_keeps_invariant_matrix():
    # a function of the periodic displacement is already translation invariant
    shape = (4, 5)
    coords = np.indices(shape).reshape(2, -1)
    d = (coords[:, None, :] - coords[:, :, None]) % np.array(shape)[:, None, None]
    M = np.cos(2 * np.pi * d[0] / 4) + 0.5 * np.cos(2 * np.pi * d[1] / 5)

    np.testing.assert_allclose(translation_average(M, shape), M, atol=1e-12)


@pytest.mark.parametrize("shape, message", [
    ((3, 3), "has 9 sites but the data have 12"),
    ((0, 12), "positive lattice sides"),
    ("ab", "positive lattice sides"),
    ((4.5, 4), "positive lattice sides"),
    ((True, 12), "positive lattice sides"),
    (("3", "4"), "positive lattice sides"),
])
def test_translation_average_bad_shape(shape, message):
    with pytest.raises(ValueError, match=message):
        translation_average(np.eye(12), shape)


def test_translation_average_rejects_complex():
    with pytest.raises(ValueError, match="matrix must be real"):
        translation_average(np.eye(4, dtype=complex), (2, 2))


def test_label_constraints_average_over_lattice():
    rng = np.random.default_rng(21)
    x = rng.choice([-1.0, 1.0], size=(300, 12))
    y = np.arange(300) % 3
    plain = label_constraints(x, y, 4, 1, lambda_Q=1.0, relative_Q=True)
    lattice = label_constraints(x, y, 4, 1, lambda_Q=1.0, relative_Q=True,
                                periodic_lattice=(3, 4))
    group, averaged = plain.groups[0], lattice.groups[0]

    for k in range(2):
        expected = translation_average(group.Q[k], (3, 4))
        np.testing.assert_allclose(averaged.Q[k], expected, atol=1e-12)
    np.testing.assert_allclose(averaged.C, translation_average(group.C, (3, 4)),
                               atol=1e-12)
    # the averaged q is uniform over the sites
    assert np.ptp(averaged.q, axis=0).max() < 1e-12


def test_label_constraints_lattice_low_rank():
    rng = np.random.default_rng(22)
    x = rng.choice([-1.0, 1.0], size=(200, 12))
    y = np.arange(200) % 2
    full = label_constraints(x, y, 4, 1, lambda_Q=1.0, periodic_lattice=(3, 4))
    low = label_constraints(x, y, 4, 1, lambda_Q=1.0, Q_rank=12,
                            periodic_lattice=(3, 4))
    W = rng.normal(size=(12, 4))

    assert low.penalty(W) == pytest.approx(full.penalty(W), rel=1e-10)


def test_label_constraints_lattice_rejects_potts():
    data = np.random.default_rng(23).integers(0, 3, (50, 4))
    with pytest.raises(ValueError, match="not to Potts data"):
        label_constraints(data, np.arange(50) % 2, 3, 1, lambda_Q=1.0, n_states=3,
                          periodic_lattice=(2, 2))
