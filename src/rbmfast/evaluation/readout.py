"""Linear read-out of a label from features, such as hidden-unit activations.

A read-out's test accuracy measures how much label information the features carry
in linearly decodable form. Compare it with `majority_rate`, the accuracy of
always predicting the most frequent training class.
"""

import warnings

import numpy as np
from scipy.optimize import minimize

from rbmfast.labels import check_weights, encode_labels

__all__ = ["SoftmaxReadout", "readout_accuracy", "train_test_split"]

# A feature whose standard deviation is at most this fraction of its max |X| is
# treated as constant and gets scale 1, so rounding error is not amplified.
_CONSTANT_STD_RTOL = 1e-12


class SoftmaxReadout:
    """Multinomial logistic regression fitted with L-BFGS-B.

    The model minimises the weighted mean cross-entropy plus
    ``0.5 * l2 * ||W||^2`` over weights W of shape (D, K) and an unpenalised bias
    of shape (K,). Features are standardised with the weighted mean and standard
    deviation of the training set first, so `l2` acts on standardised features.
    Two classes use the same K-column formulation.

    Parameters
    ----------
    l2 : float
        L2 penalty on the weights, >= 0. With ``l2 = 0`` and separable data the
        weights grow until `max_iter` is reached.
    max_iter : int
        Maximum number of L-BFGS-B iterations.
    tol : float
        L-BFGS-B stops when every gradient component is at most `tol`.

    Attributes
    ----------
    classes_ : ndarray, shape (K,)
        Classes with positive training weight, sorted.
    mean_, scale_ : ndarray of float64, shape (D,)
        Standardisation of the features. Constant features have scale 1.
    coef_ : ndarray of float64, shape (D, K)
        Weights on standardised features.
    intercept_ : ndarray of float64, shape (K,)
        Bias per class.
    n_iter_ : int
        Number of L-BFGS-B iterations run (0 for a feature matrix with 0 columns).
    """

    def __init__(self, l2=1e-3, max_iter=500, tol=1e-6):
        if not (np.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
        if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)):
            raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
        if max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {max_iter}")
        if not (np.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be a finite number > 0, got {tol!r}")
        self.l2 = float(l2)
        self.max_iter = int(max_iter)
        self.tol = float(tol)

    def fit(self, X, y, sample_weight=None):
        """Fit the read-out to features and labels.

        Parameters
        ----------
        X : array_like of float, shape (n, D)
            Features. D may be 0, and the model then predicts the class with the
            largest training weight.
        y : array_like, shape (n,)
            Labels, anything `rbmfast.labels.encode_labels` accepts.
        sample_weight : array_like of float, shape (n,), optional
            Non-negative sample weights. Integer weights are equivalent to
            repeated rows. Samples of weight 0 are ignored.

        Returns
        -------
        self : SoftmaxReadout

        Raises
        ------
        ValueError
            If X contains NaN or inf, if the lengths of X, y and sample_weight
            differ, or if fewer than two classes have positive weight.
        """
        X = _check_features(X)
        codes, classes = _encode_targets(y, X.shape[0])
        weights = check_weights(sample_weight, X.shape[0])

        positive_weight = weights > 0
        X = X[positive_weight]
        codes = codes[positive_weight]
        weights = weights[positive_weight]
        present = np.unique(codes)
        if present.size < 2:
            single = classes.tolist()[present[0]]
            raise ValueError(
                f"y has a single class {single!r} with positive weight; "
                "a read-out needs at least two"
            )
        self.classes_ = classes[present]
        codes = np.searchsorted(present, codes)
        probabilities = weights / weights.sum()

        self.mean_, self.scale_ = _standardization(X, probabilities)
        features = (X - self.mean_) / self.scale_
        self._fit_standardized(features, codes, probabilities)
        return self

    def _fit_standardized(self, features, codes, probabilities):
        n_features = features.shape[1]
        n_classes = self.classes_.shape[0]
        class_weights = np.bincount(codes, weights=probabilities, minlength=n_classes)
        log_prior = np.log(class_weights)
        self.n_features_in_ = n_features
        if n_features == 0:
            # The bias-only optimum is the log of the class frequencies.
            self.coef_ = np.zeros((0, n_classes))
            self.intercept_ = log_prior
            self.n_iter_ = 0
            return

        initial = np.concatenate([np.zeros(n_features * n_classes), log_prior])
        result = minimize(
            _softmax_loss,
            initial,
            args=(features, codes, probabilities, self.l2, n_classes),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 1e-12},
        )
        if not result.success:
            warnings.warn(
                f"SoftmaxReadout did not converge in {result.nit} iterations "
                f"({result.message}); raise max_iter or l2",
                RuntimeWarning,
                stacklevel=3,
            )
        self.coef_ = result.x[: n_features * n_classes].reshape(n_features, n_classes)
        self.intercept_ = result.x[n_features * n_classes :]
        self.n_iter_ = int(result.nit)

    def decision_function(self, X):
        """Compute the class logits.

        Parameters
        ----------
        X : array_like of float, shape (n, D)
            Features with the D columns seen in `fit`.

        Returns
        -------
        logits : ndarray of float64, shape (n, K)
        """
        if not hasattr(self, "coef_"):
            raise RuntimeError("SoftmaxReadout is not fitted; call fit(X, y) first")
        X = _check_features(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features but the read-out was fitted on "
                f"{self.n_features_in_}"
            )
        return ((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_

    def predict_proba(self, X):
        """Compute class probabilities.

        Parameters
        ----------
        X : array_like of float, shape (n, D)
            Features.

        Returns
        -------
        probabilities : ndarray of float64, shape (n, K)
            Rows sum to 1. Columns follow `classes_`.
        """
        logits = self.decision_function(X)
        return np.exp(logits - _logsumexp(logits)[:, None])

    def predict(self, X):
        """Predict the most probable class.

        Parameters
        ----------
        X : array_like of float, shape (n, D)
            Features.

        Returns
        -------
        labels : ndarray, shape (n,)
            Labels from `classes_`, of the same type as the training labels.
        """
        logits = self.decision_function(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Compute the accuracy of `predict` on labelled data.

        Parameters
        ----------
        X : array_like of float, shape (n, D)
            Features.
        y : array_like, shape (n,)
            True labels. A label not seen in training counts as an error.
        sample_weight : array_like of float, shape (n,), optional
            Weights of the samples in the accuracy.

        Returns
        -------
        accuracy : float
            Weighted fraction of correct predictions, in [0, 1].
        """
        predicted = self.predict(X)
        y = np.asarray(y)
        if y.shape != predicted.shape:
            raise ValueError(
                f"y has shape {y.shape} but X has {predicted.shape[0]} rows; pass "
                "one label per row"
            )
        weights = check_weights(sample_weight, y.shape[0])
        return float(weights @ (predicted == y) / weights.sum())


def _softmax_loss(params, features, codes, probabilities, l2, n_classes):
    """Return the penalised cross-entropy and its gradient.

    Parameters
    ----------
    params : ndarray of float64, shape (D * K + K,)
        Weights W of shape (D, K) in row-major order, followed by the bias.
    features : ndarray of float64, shape (n, D)
    codes : ndarray of int64, shape (n,)
        Class index of each sample.
    probabilities : ndarray of float64, shape (n,)
        Sample weights summing to 1.
    l2 : float
        Penalty ``0.5 * l2 * ||W||^2``.
    n_classes : int

    Returns
    -------
    loss : float
    gradient : ndarray of float64, shape (D * K + K,)
    """
    n_features = features.shape[1]
    weights = params[: n_features * n_classes].reshape(n_features, n_classes)
    bias = params[n_features * n_classes :]
    rows = np.arange(codes.shape[0])

    logits = features @ weights + bias
    log_normalizer = _logsumexp(logits)
    loss = probabilities @ (log_normalizer - logits[rows, codes])
    loss += 0.5 * l2 * np.sum(weights**2)

    residual = np.exp(logits - log_normalizer[:, None])
    residual[rows, codes] -= 1.0
    residual *= probabilities[:, None]
    weight_gradient = features.T @ residual + l2 * weights
    return loss, np.concatenate([weight_gradient.ravel(), residual.sum(axis=0)])


def _logsumexp(logits):
    largest = logits.max(axis=1)
    return largest + np.log(np.exp(logits - largest[:, None]).sum(axis=1))


def _check_features(X):
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float64, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf; remove or fill those values")
    return X


def _encode_targets(y, n):
    codes, classes = encode_labels(y)
    if codes.shape[0] != n:
        raise ValueError(
            f"y has {codes.shape[0]} labels but X has {n} rows; pass one label "
            "per row"
        )
    return codes, classes


def _standardization(X, probabilities):
    mean = probabilities @ X
    std = np.sqrt(probabilities @ (X - mean) ** 2)
    max_abs = np.abs(X).max(axis=0)
    scale = np.where(std > _CONSTANT_STD_RTOL * max_abs, std, 1.0)
    return mean, scale


def readout_accuracy(X_train, y_train, X_test, y_test, l2=1e-3, sample_weight=None):
    """Fit a `SoftmaxReadout` on a training set and score it on a test set.

    Parameters
    ----------
    X_train : array_like of float, shape (n_train, D)
    y_train : array_like, shape (n_train,)
    X_test : array_like of float, shape (n_test, D)
    y_test : array_like, shape (n_test,)
    l2 : float
        L2 penalty of the read-out.
    sample_weight : array_like of float, shape (n_train,), optional
        Training sample weights. The test accuracy is unweighted.

    Returns
    -------
    result : dict
        ``accuracy`` : float, test accuracy.
        ``majority_rate`` : float, test-set frequency of the class with the largest
        training weight. This is the accuracy of a read-out that learned nothing.
        ``n_train``, ``n_test`` : int, numbers of rows.
    """
    readout = SoftmaxReadout(l2=l2).fit(X_train, y_train, sample_weight)
    codes, classes = encode_labels(y_train)
    weights = check_weights(sample_weight, codes.shape[0])
    majority = classes[np.argmax(np.bincount(codes, weights=weights))]
    y_test = np.asarray(y_test)
    return {
        "accuracy": readout.score(X_test, y_test),
        "majority_rate": float(np.mean(y_test == majority)),
        "n_train": int(codes.shape[0]),
        "n_test": int(y_test.shape[0]),
    }


def train_test_split(n, test_fraction=0.2, seed=0, stratify=None):
    """Split sample indices into a training and a test set at random.

    Parameters
    ----------
    n : int
        Number of samples, >= 2.
    test_fraction : float
        Fraction of samples in the test set, in (0, 1). The test set gets
        ``n_test = floor(n * test_fraction + 0.5)`` samples.
    seed : int or numpy.random.Generator
        Seed of the permutation.
    stratify : array_like, shape (n,), optional
        Labels whose class proportions both sets keep. Class c of n_c samples
        gets ``n_c * n_test / n`` test samples, rounded by the largest-remainder
        method so that the counts add up to n_test. A class with very few samples
        may land in one set only.

    Returns
    -------
    train_idx, test_idx : ndarray of int64
        Disjoint sorted indices that together cover ``range(n)``.

    Raises
    ------
    ValueError
        If `n` is not an integer >= 2, `test_fraction` is outside (0, 1), either
        set would be empty, or `stratify` has the wrong length.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if not (np.isfinite(test_fraction) and 0 < test_fraction < 1):
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    n_test = int(np.floor(n * test_fraction + 0.5))
    if n_test == 0 or n_test == n:
        side = "test" if n_test == 0 else "training"
        raise ValueError(
            f"test_fraction={test_fraction} of n={n} samples leaves the {side} set "
            "empty; choose a fraction nearer 0.5 or use more samples"
        )

    rng = np.random.default_rng(seed)
    if stratify is None:
        permutation = rng.permutation(n)
        test_idx = permutation[:n_test]
    else:
        test_idx = _stratified_test_indices(stratify, n, n_test, rng)
    test_mask = np.zeros(n, bool)
    test_mask[test_idx] = True
    return np.flatnonzero(~test_mask), np.flatnonzero(test_mask)


def _stratified_test_indices(stratify, n, n_test, rng):
    codes, _ = encode_labels(stratify)
    if codes.shape[0] != n:
        raise ValueError(
            f"stratify has {codes.shape[0]} labels but n is {n}; pass one label "
            "per sample"
        )
    class_sizes = np.bincount(codes)
    ideal = class_sizes * (n_test / n)
    class_test = np.floor(ideal).astype(np.int64)
    remainder = n_test - int(class_test.sum())
    by_fraction = np.argsort(-(ideal - class_test), kind="stable")
    class_test[by_fraction[:remainder]] += 1

    chosen = []
    for code, count in enumerate(class_test):
        members = np.flatnonzero(codes == code)
        chosen.append(rng.permutation(members)[:count])
    return np.concatenate(chosen)
