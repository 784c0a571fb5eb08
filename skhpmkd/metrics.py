"""Fidelity metrics between teacher and student probability distributions."""

import numpy as np
from sklearn.utils.validation import check_array, check_consistent_length

_EPS = 1e-12


def _check_pair(p, q):
    p = check_array(p, dtype=float, ensure_2d=True)
    q = check_array(q, dtype=float, ensure_2d=True)
    check_consistent_length(p, q)
    if p.shape[1] != q.shape[1]:
        raise ValueError(
            f"Both distributions need the same number of classes; got {p.shape[1]} "
            f"and {q.shape[1]}."
        )
    for name, values in (("first", p), ("second", q)):
        if np.any(values < 0) or not np.allclose(values.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError(
                f"The {name} argument must hold probability rows: non-negative "
                "values that sum to 1."
            )
    return p, q


def kl_divergence(p_true, p_pred, *, sample_weight=None):
    """Mean Kullback-Leibler divergence ``KL(p_true || p_pred)`` over rows.

    Parameters
    ----------
    p_true : array-like of shape (n_samples, n_classes)
        Reference distribution, e.g. the teacher's probabilities.
    p_pred : array-like of shape (n_samples, n_classes)
        Approximating distribution, e.g. the student's probabilities.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    kl : float
        Weighted mean of ``sum_k p_true[k] log(p_true[k] / p_pred[k])``, in nats.

    Examples
    --------
    >>> from skhpmkd.metrics import kl_divergence
    >>> round(kl_divergence([[0.5, 0.5]], [[0.9, 0.1]]), 4)
    0.5108
    """
    p, q = _check_pair(p_true, p_pred)
    ratio = np.log(np.clip(p, _EPS, None)) - np.log(np.clip(q, _EPS, None))
    per_row = np.sum(np.where(p > 0, p * ratio, 0.0), axis=1)
    return float(np.average(per_row, weights=sample_weight))


def top1_agreement(p_true, p_pred, *, sample_weight=None):
    """Fraction of rows where both distributions have the same most likely class.

    Parameters
    ----------
    p_true, p_pred : array-like of shape (n_samples, n_classes)
        Probability rows, e.g. teacher and student.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    agreement : float

    Examples
    --------
    >>> from skhpmkd.metrics import top1_agreement
    >>> top1_agreement([[0.6, 0.4], [0.2, 0.8]], [[0.9, 0.1], [0.7, 0.3]])
    0.5
    """
    p, q = _check_pair(p_true, p_pred)
    same = np.argmax(p, axis=1) == np.argmax(q, axis=1)
    return float(np.average(same, weights=sample_weight))
