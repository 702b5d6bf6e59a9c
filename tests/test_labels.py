import numpy as np
import pytest

from rbmfast import labels as labels_module
from rbmfast.labels import (
    check_weights,
    encode_labels,
    label_covariance_matrix,
    label_matrix,
    label_second_moment,
)


def _random_problem(seed=0, n=40, n_features=5, n_classes=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features)) + 3.0
    y = rng.integers(0, n_classes, n)
    weights = rng.integers(0, 4, n).astype(float)
    weights[0] = 1.0
    return x, y, weights


def _loop_covariance(x, U, weights):
    total = weights.sum()
    x_mean = sum(w * row for w, row in zip(weights, x)) / total
    U_mean = sum(w * row for w, row in zip(weights, U)) / total
    q = np.zeros((x.shape[1], U.shape[1]))
    for b in range(x.shape[0]):
        q += weights[b] * np.outer(x[b] - x_mean, U[b] - U_mean)
    return q / total


def _loop_second_moment(x, u, weights):
    total = weights.sum()
    x_mean = sum(w * row for w, row in zip(weights, x)) / total
    u_mean = np.dot(weights, u) / total
    Q = np.zeros((x.shape[1], x.shape[1]))
    for b in range(x.shape[0]):
        d = x[b] - x_mean
        Q += weights[b] * (u[b] - u_mean) * np.outer(d, d)
    return Q / total


# encode_labels


def test_encode_integers_sorted():
    codes, classes = encode_labels([3, 1, 3, 2])
    assert codes.dtype == np.int64
    assert codes.tolist() == [2, 0, 2, 1]
    assert classes.tolist() == [1, 2, 3]


def test_encode_strings():
    codes, classes = encode_labels(["cat", "dog", "cat"])
    assert codes.tolist() == [0, 1, 0]
    assert classes.tolist() == ["cat", "dog"]


def test_encode_bools():
    codes, classes = encode_labels(np.array([True, False, True]))
    assert codes.tolist() == [1, 0, 1]
    assert classes.tolist() == [False, True]


def test_encode_fixed_class_order():
    codes, classes = encode_labels(["b", "a", "c"], classes=["c", "b", "a"])
    assert codes.tolist() == [1, 2, 0]
    assert classes.tolist() == ["c", "b", "a"]


def test_encode_unknown_label_named():
    with pytest.raises(ValueError, match="'z'"):
        encode_labels(["a", "z"], classes=["a", "b"])


def test_encode_duplicate_classes():
    with pytest.raises(ValueError, match="twice"):
        encode_labels([1, 2], classes=[1, 2, 1])


@pytest.mark.parametrize(
    "bad, message",
    [
        (None, "None"),
        ([], "empty"),
        (np.zeros((3, 2)), "1-D"),
        ([0.0, np.nan, 1.0], "NaN at index 1"),
        (np.array([1, None, 2], dtype=object), "None"),
    ],
)
def test_encode_rejects_bad_labels(bad, message):
    with pytest.raises(ValueError, match=message):
        encode_labels(bad)


def test_encode_mixed_types_rejected():
    with pytest.raises(ValueError, match="mixed types"):
        encode_labels(np.array([1, "a"], dtype=object))


# label_matrix


def test_matrix_drops_last_class():
    U, classes = label_matrix([0, 2, 1, 2])
    assert U.dtype == np.float64
    assert U.shape == (4, 2)
    assert U.tolist() == [[1, 0], [0, 0], [0, 1], [0, 0]]
    assert classes.tolist() == [0, 1, 2]


def test_matrix_binary_one_column():
    U, _ = label_matrix(np.array([True, False, True]))
    assert U.shape == (3, 1)
    assert U[:, 0].tolist() == [0.0, 1.0, 0.0]


def test_matrix_drop_first_and_none():
    U_first, _ = label_matrix(["a", "b", "c"], drop="first")
    U_all, _ = label_matrix(["a", "b", "c"], drop=None)
    assert U_first.tolist() == [[0, 0], [1, 0], [0, 1]]
    assert np.array_equal(U_all, np.eye(3))


def test_matrix_invalid_drop():
    with pytest.raises(ValueError, match="drop"):
        label_matrix([0, 1], drop="middle")


def test_matrix_single_class_error():
    with pytest.raises(ValueError, match="single class 7"):
        label_matrix([7, 7, 7])


def test_matrix_single_weighted_class_error():
    with pytest.raises(ValueError, match="single class 'a'"):
        label_matrix(["a", "b", "a"], weights=[1.0, 0.0, 2.0])


def test_matrix_continuous_passthrough():
    temperature = np.array([[1.5, -0.2], [2.0, 0.3], [2.5, 0.1]], np.float32)
    U, classes = label_matrix(temperature)
    assert classes is None
    assert U.dtype == np.float64
    assert np.array_equal(U, temperature.astype(np.float64))


def test_matrix_continuous_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        label_matrix(np.array([[1.0], [np.nan]]))


def test_matrix_2d_integer_rejected():
    with pytest.raises(ValueError, match="must be float"):
        label_matrix(np.array([[1, 0], [0, 1]]))


# check_weights


def test_weights_none_gives_ones():
    weights = check_weights(None, 4)
    assert weights.dtype == np.float64
    assert weights.tolist() == [1.0] * 4


@pytest.mark.parametrize(
    "bad, message",
    [
        ([1.0, 2.0], r"shape \(3,\)"),
        ([1.0, -1.0, 2.0], "non-negative"),
        ([1.0, np.nan, 2.0], "NaN"),
        ([1.0, np.inf, 2.0], "inf"),
        ([0.0, 0.0, 0.0], "all zero"),
    ],
)
def test_weights_rejected(bad, message):
    with pytest.raises(ValueError, match=message):
        check_weights(bad, 3)


# label_covariance_matrix


def test_covariance_matches_loop():
    x, y, weights = _random_problem()
    U, _ = label_matrix(y)
    expected = _loop_covariance(x, U, weights)
    actual = label_covariance_matrix(x, U, weights)
    assert actual.shape == (5, 2)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)


def test_covariance_weights_equal_repeats():
    x, y, weights = _random_problem(seed=1)
    U, _ = label_matrix(y, weights)
    repeats = weights.astype(int)
    weighted = label_covariance_matrix(x, U, weights)
    repeated = label_covariance_matrix(
        np.repeat(x, repeats, 0), np.repeat(U, repeats, 0)
    )
    np.testing.assert_allclose(weighted, repeated, rtol=1e-12, atol=1e-14)


def test_covariance_float32_input():
    x, y, _ = _random_problem(seed=2)
    U, _ = label_matrix(y)
    x32 = x.astype(np.float32)
    expected = label_covariance_matrix(x32.astype(np.float64), U)
    actual = label_covariance_matrix(x32, U)
    assert actual.dtype == np.float64
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)


def test_covariance_across_row_blocks(monkeypatch):
    x, y, weights = _random_problem(seed=3, n=50)
    U, _ = label_matrix(y)
    expected = label_covariance_matrix(x, U, weights)
    monkeypatch.setattr(labels_module, "_BLOCK_ELEMENTS", 7)
    np.testing.assert_allclose(
        label_covariance_matrix(x, U, weights), expected, rtol=1e-12, atol=1e-14
    )


def test_covariance_one_dimensional_U():
    x, y, _ = _random_problem(seed=4)
    u = (y == 1).astype(float)
    expected = label_covariance_matrix(x, u[:, None])
    assert np.array_equal(label_covariance_matrix(x, u), expected)


def test_covariance_rejects_row_mismatch():
    x, y, _ = _random_problem()
    U, _ = label_matrix(y[:-1])
    with pytest.raises(ValueError, match="match x"):
        label_covariance_matrix(x, U)


def test_covariance_rejects_nan_data():
    x, y, _ = _random_problem()
    x[3, 2] = np.nan
    U, _ = label_matrix(y)
    with pytest.raises(ValueError, match="NaN"):
        label_covariance_matrix(x, U)


# label_second_moment


def test_second_moment_matches_loop():
    x, y, weights = _random_problem(seed=5)
    u = (y == 0).astype(float)
    expected = _loop_second_moment(x, u, weights)
    actual = label_second_moment(x, u, weights)
    assert actual.shape == (5, 5)
    np.testing.assert_allclose(actual, expected, rtol=1e-11, atol=1e-13)


def test_second_moment_symmetric():
    x, y, weights = _random_problem(seed=6, n_features=8)
    Q = label_second_moment(x.astype(np.float32), (y == 2).astype(float), weights)
    assert np.array_equal(Q, Q.T)


def test_second_moment_weights_equal_repeats():
    x, y, weights = _random_problem(seed=7)
    u = (y == 1).astype(float)
    repeats = weights.astype(int)
    weighted = label_second_moment(x, u, weights)
    repeated = label_second_moment(np.repeat(x, repeats, 0), np.repeat(u, repeats))
    np.testing.assert_allclose(weighted, repeated, rtol=1e-11, atol=1e-13)


def test_second_moment_across_row_blocks(monkeypatch):
    x, y, weights = _random_problem(seed=8, n=50)
    u = (y == 1).astype(float)
    expected = label_second_moment(x, u, weights)
    monkeypatch.setattr(labels_module, "_BLOCK_ELEMENTS", 11)
    np.testing.assert_allclose(
        label_second_moment(x, u, weights), expected, rtol=1e-12, atol=1e-14
    )


def test_second_moment_continuous_label():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(30, 3))
    temperature = rng.uniform(1.0, 3.0, size=(30, 1))
    U, _ = label_matrix(temperature)
    expected = _loop_second_moment(x, temperature[:, 0], np.ones(30))
    np.testing.assert_allclose(
        label_second_moment(x, U, None), expected, rtol=1e-11, atol=1e-13
    )


def test_second_moment_rejects_two_columns():
    x, y, _ = _random_problem()
    U, _ = label_matrix(y)
    with pytest.raises(ValueError, match="one label column"):
        label_second_moment(x, U)
