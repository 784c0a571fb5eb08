"""Dataset meta-features that place a distillation task among earlier ones."""

import warnings

import numpy as np
from scipy.stats import skew

META_FEATURES = (
    "log_samples",
    "log_features",
    "log_classes",
    "class_entropy",
    "minority_share",
    "discrete_share",
    "skewness",
    "teacher_accuracy",
    "teacher_entropy",
)

_DISCRETE_LEVELS = 10
_MAX_ROWS = 2_000
_EPS = 1e-12


def _normalized_entropy(proba):
    n_classes = proba.shape[-1]
    entropy = -np.sum(proba * np.log(np.clip(proba, _EPS, None)), axis=-1)
    return entropy / np.log(n_classes)


def meta_features(X, y, teacher_targets):
    """Describe a task by a few cheap, roughly unit-scaled numbers.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows (NaN allowed).
    y : ndarray of shape (n_samples,)
        Encoded labels ``0..n_classes-1``.
    teacher_targets : ndarray of shape (n_samples, n_classes)
        Out-of-fold teacher probabilities.

    Returns
    -------
    features : dict of str to float
        One value per name of ``META_FEATURES``: sizes on log scales, the
        normalised class entropy, the minority class share times the number of
        classes, the share of features with at most 10 distinct values, the
        mean absolute skewness (capped at 10, divided by 10), the teacher's
        out-of-fold accuracy and the mean normalised entropy of its targets.

    Examples
    --------
    >>> import numpy as np
    >>> from skhpmkd._meta_features import meta_features
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> y = np.array([0, 1] * 5)
    >>> targets = np.tile([0.5, 0.5], (10, 1))
    >>> meta_features(X, y, targets)["class_entropy"]
    1.0
    """
    X = np.asarray(X, dtype=float)
    n_samples, n_features = X.shape
    n_classes = teacher_targets.shape[1]
    counts = np.bincount(y, minlength=n_classes) / n_samples
    # A fixed, evenly spaced sample of rows keeps this cheap and deterministic.
    sample = X[:: max(1, n_samples // _MAX_ROWS)]
    distinct = [np.unique(column[~np.isnan(column)]).size for column in sample.T]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # Skewness does not change with a shift. Centred on its median, a
        # constant column is exactly zero and gets no skewness (0 here),
        # where scipy would lose precision on it, warn and return noise.
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        centred = sample - np.nanmedian(sample, axis=0)
        # Nor with a scale: a power of two that brings each column near 1
        # keeps its cube from overflowing or underflowing, and changes no bit
        # of the skewness of columns that did neither.
        _, exponents = np.frexp(np.nanmax(np.abs(centred), axis=0))
        centred = np.ldexp(centred, -exponents)
        skewness = np.nan_to_num(skew(centred, axis=0, nan_policy="omit"))
    values = {
        "log_samples": np.log10(n_samples) / 5,
        "log_features": np.log10(n_features) / 3,
        "log_classes": np.log2(n_classes) / 4,
        "class_entropy": _normalized_entropy(counts),
        "minority_share": counts.min() * n_classes,
        "discrete_share": np.mean(np.asarray(distinct) <= _DISCRETE_LEVELS),
        "skewness": min(float(np.mean(np.abs(skewness))), 10.0) / 10,
        "teacher_accuracy": np.mean(np.argmax(teacher_targets, axis=1) == y),
        "teacher_entropy": np.mean(_normalized_entropy(teacher_targets)),
    }
    return {name: round(float(values[name]), 6) for name in META_FEATURES}


def meta_distance(first, second):
    """Euclidean distance between two meta-feature dicts over their shared names."""
    names = [name for name in META_FEATURES if name in first and name in second]
    if not names:
        return np.inf
    diff = np.array([float(first[name]) - float(second[name]) for name in names])
    return float(np.sqrt(np.mean(diff**2)))
