import numpy as np
import pytest

from rbmfast.evaluation.readout import (
    SoftmaxReadout,
    _softmax_loss,
    readout_accuracy,
    train_test_split,
)


def _separable(seed=0, n=600, n_classes=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    centres = 6.0 * np.eye(n_classes, 4)
    return centres[y] + rng.normal(size=(n, 4)), y


# loss


def test_loss_gradient_finite_differences():
    rng = np.random.default_rng(1)
    n, n_features, n_classes = 30, 4, 3
    features = rng.normal(size=(n, n_features))
    codes = rng.integers(0, n_classes, n)
    probabilities = rng.uniform(0.5, 2.0, n)
    probabilities /= probabilities.sum()
    params = rng.normal(size=n_features * n_classes + n_classes)
    args = (features, codes, probabilities, 0.3, n_classes)

    _, gradient = _softmax_loss(params, *args)
    step = 1e-6
    numeric = np.zeros_like(params)
    for i in range(params.size):
        shift = np.zeros_like(params)
        shift[i] = step
        upper, _ = _softmax_loss(params + shift, *args)
        lower, _ = _softmax_loss(params - shift, *args)
        numeric[i] = (upper - lower) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)


def test_loss_stable_for_large_logits():
    features = np.array([[1.0], [-1.0]])
    params = np.array([1000.0, -1000.0, 0.0, 0.0])
    loss, gradient = _softmax_loss(
        params, features, np.array([1, 0]), np.array([0.5, 0.5]), 0.0, 2
    )
    assert loss == pytest.approx(2000.0)
    assert np.isfinite(gradient).all()


# SoftmaxReadout


def test_readout_separable_accuracy():
    X, y = _separable()
    readout = SoftmaxReadout().fit(X[:400], y[:400])
    assert readout.score(X[400:], y[400:]) > 0.97


def test_readout_two_classes():
    X, y = _separable(seed=2, n_classes=2)
    readout = SoftmaxReadout().fit(X[:400], y[:400])
    assert readout.predict_proba(X[400:]).shape == (200, 2)
    assert readout.score(X[400:], y[400:]) > 0.97


def test_readout_string_labels_returned():
    X, y = _separable(seed=3)
    names = np.array(["cat", "dog", "emu"])[y]
    readout = SoftmaxReadout().fit(X, names)
    predicted = readout.predict(X[:5])
    assert predicted.dtype.kind == "U"
    assert set(predicted.tolist()) <= {"cat", "dog", "emu"}
    assert readout.classes_.tolist() == ["cat", "dog", "emu"]


def test_readout_probabilities_sum_to_one():
    X, y = _separable(seed=4)
    probabilities = SoftmaxReadout().fit(X, y).predict_proba(X.astype(np.float32))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert (probabilities >= 0).all()


def test_readout_weights_equal_repeats():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + 0.8 * rng.normal(size=80) > 0).astype(int) + (X[:, 1] > 1)
    weights = rng.integers(0, 4, 80).astype(float)
    repeats = weights.astype(int)
    weighted = SoftmaxReadout(l2=0.1, tol=1e-9).fit(X, y, sample_weight=weights)
    repeated = SoftmaxReadout(l2=0.1, tol=1e-9).fit(
        np.repeat(X, repeats, 0), np.repeat(y, repeats)
    )
    np.testing.assert_allclose(weighted.mean_, repeated.mean_, rtol=1e-12)
    np.testing.assert_allclose(weighted.scale_, repeated.scale_, rtol=1e-12)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-5)
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6
    )


def test_readout_zero_columns_majority():
    y = np.array(["b"] * 7 + ["a"] * 3)
    X = np.zeros((10, 0))
    readout = SoftmaxReadout().fit(X, y)
    assert readout.predict(np.zeros((4, 0))).tolist() == ["b"] * 4
    np.testing.assert_allclose(readout.predict_proba(np.zeros((1, 0))), [[0.3, 0.7]])


def test_readout_constant_feature_scale_one():
    X, y = _separable(seed=6)
    X[:, 2] = 0.1
    readout = SoftmaxReadout().fit(X, y)
    assert readout.scale_[2] == 1.0
    assert readout.score(X, y) > 0.97


def test_readout_ignores_zero_weight_class():
    X, y = _separable(seed=7)
    readout = SoftmaxReadout().fit(X, y, sample_weight=(y != 2).astype(float))
    assert readout.classes_.tolist() == [0, 1]


def test_readout_rejects_nan():
    X, y = _separable()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SoftmaxReadout().fit(X, y)


def test_readout_rejects_length_mismatch():
    X, y = _separable()
    with pytest.raises(ValueError, match="599 labels but X has 600 rows"):
        SoftmaxReadout().fit(X, y[:-1])


def test_readout_rejects_single_class():
    X, _ = _separable()
    with pytest.raises(ValueError, match="single class 4"):
        SoftmaxReadout().fit(X, np.full(600, 4))


def test_readout_predict_before_fit():
    with pytest.raises(RuntimeError, match="not fitted"):
        SoftmaxReadout().predict(np.zeros((2, 3)))


def test_readout_rejects_feature_count():
    X, y = _separable()
    readout = SoftmaxReadout().fit(X, y)
    with pytest.raises(ValueError, match="3 features but the read-out was fitted on 4"):
        readout.predict(X[:, :3])


@pytest.mark.parametrize(
    "options", [{"l2": -1.0}, {"l2": np.nan}, {"max_iter": 0}, {"tol": 0.0}]
)
def test_readout_rejects_bad_options(options):
    with pytest.raises(ValueError):
        SoftmaxReadout(**options)


def test_readout_warns_without_convergence():
    X, y = _separable()
    with pytest.warns(RuntimeWarning, match="did not converge"):
        SoftmaxReadout(max_iter=1).fit(X, y)


# readout_accuracy


def test_accuracy_independent_features_near_majority():
    # Labels independent of features, p(majority) = 0.7. With 2000 test samples
    # the standard error of an accuracy is sqrt(0.21 / 2000) = 0.010, so three
    # standard errors allow 0.031.
    rng = np.random.default_rng(8)
    n = 10000
    X = rng.normal(size=(n, 5))
    y = (rng.uniform(size=n) < 0.3).astype(int)
    result = readout_accuracy(X[:8000], y[:8000], X[8000:], y[8000:])
    assert result["n_train"] == 8000
    assert result["n_test"] == 2000
    assert result["majority_rate"] == pytest.approx(np.mean(y[8000:] == 0))
    assert abs(result["accuracy"] - result["majority_rate"]) < 0.031


def test_accuracy_separable_data():
    X, y = _separable(seed=9)
    result = readout_accuracy(X[:400], y[:400], X[400:], y[400:])
    assert result["accuracy"] > 0.97
    assert result["majority_rate"] < 0.5


def test_accuracy_weighted_majority():
    X = np.zeros((6, 0))
    y = np.array([0, 0, 0, 0, 1, 1])
    weights = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 5.0])
    result = readout_accuracy(X, y, X, y, sample_weight=weights)
    assert result["majority_rate"] == pytest.approx(2 / 6)
    assert result["accuracy"] == pytest.approx(2 / 6)


# train_test_split


def test_split_sizes_and_cover():
    train, test = train_test_split(103, test_fraction=0.2, seed=1)
    assert test.size == 21
    assert train.size == 82
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(103))


def test_split_seeded():
    first = train_test_split(50, seed=3)[1]
    again = train_test_split(50, seed=3)[1]
    other = train_test_split(50, seed=4)[1]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_split_stratified_proportions():
    labels = np.repeat(["a", "b", "c"], [50, 30, 20])
    train, test = train_test_split(100, test_fraction=0.3, seed=0, stratify=labels)
    assert test.size == 30
    assert np.sum(labels[test] == "a") == 15
    assert np.sum(labels[test] == "b") == 9
    assert np.sum(labels[test] == "c") == 6
    assert np.intersect1d(train, test).size == 0


def test_split_stratified_remainder():
    labels = np.repeat([0, 1, 2], [7, 7, 7])
    _, test = train_test_split(21, test_fraction=0.5, seed=0, stratify=labels)
    counts = np.bincount(labels[test], minlength=3)
    assert test.size == 11
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, np.nan])
def test_split_rejects_fraction(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(10, test_fraction=fraction)


def test_split_rejects_empty_test():
    with pytest.raises(ValueError, match="test set empty"):
        train_test_split(4, test_fraction=0.1)


def test_split_rejects_empty_train():
    with pytest.raises(ValueError, match="training set empty"):
        train_test_split(4, test_fraction=0.9)


@pytest.mark.parametrize("n", [1, 0, 2.5, True])
def test_split_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        train_test_split(n)


def test_split_rejects_stratify_length():
    with pytest.raises(ValueError, match="stratify has 9 labels"):
        train_test_split(10, stratify=np.zeros(9))
