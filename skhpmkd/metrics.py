"""Fidelity metrics between teacher and student probability distributions.

Also :func:`model_size`, the size in which students and teachers are
compared (tree nodes plus coefficients).
"""

import numpy as np
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
)

from ._size import model_size

__all__ = [
    "centroid",
    "centroid_fidelity",
    "fidelity_report",
    "individual_fidelity",
    "kl_divergence",
    "model_size",
    "pairwise_kl",
    "teacher_diversity",
    "top1_agreement",
]

_EPS = 1e-12


def _check_pair(p, q):
    names = ("p_true", "p_pred")
    p = _probability_array(p, names[0])
    q = _probability_array(q, names[1])
    check_consistent_length(p, q)
    if p.shape[1] != q.shape[1]:
        raise ValueError(
            f"Both distributions need the same number of classes; got {p.shape[1]} "
            f"and {q.shape[1]}."
        )
    for name, values in zip(names, (p, q)):
        _check_probability_rows(values, name)
    return p, q


def _probability_array(values, name):
    """``values`` as a 2-D float array; errors name ``name``."""
    values = check_array(values, dtype=float, ensure_2d=False, input_name=name)
    if values.ndim != 2:
        raise ValueError(
            f"{name} must be probability rows of shape (n_samples, n_classes), "
            f"such as predict_proba's output; got an array of shape {values.shape}."
        )
    return values


def _check_probability_rows(values, what):
    if np.any(values < 0) or not np.allclose(values.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(
            f"{what} must hold probability rows: non-negative values that sum to 1."
        )


def _row_weights(sample_weight, n_samples):
    """Validated row weights: finite, non-negative, one per row, not all zero."""
    if sample_weight is None:
        return None
    return _check_sample_weight(
        sample_weight, np.empty((n_samples, 0)), ensure_non_negative=True
    )


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
        ``p_pred`` is clipped at ``1e-12`` (:func:`sklearn.metrics.log_loss`
        clips at the float epsilon instead, about ``2.2e-16``): a class the
        prediction gives probability 0 where
        ``p_true[k] > 0`` costs ``p_true[k] log(p_true[k] / 1e-12)`` (at most
        27.7 nats) instead of an infinite divergence.

    Examples
    --------
    >>> from skhpmkd.metrics import kl_divergence
    >>> round(kl_divergence([[0.5, 0.5]], [[0.9, 0.1]]), 4)
    0.5108
    """
    p, q = _check_pair(p_true, p_pred)
    weights = _row_weights(sample_weight, len(p))
    return float(np.average(_row_kl(p, q), weights=weights))


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
        Share of rows, in [0, 1], weighted by ``sample_weight``.

    Examples
    --------
    >>> from skhpmkd.metrics import top1_agreement
    >>> top1_agreement([[0.6, 0.4], [0.2, 0.8]], [[0.9, 0.1], [0.7, 0.3]])
    0.5
    """
    p, q = _check_pair(p_true, p_pred)
    weights = _row_weights(sample_weight, len(p))
    same = np.argmax(p, axis=1) == np.argmax(q, axis=1)
    return float(np.average(same, weights=weights))


def _dict_teacher_names(teacher_probas, teacher_names):
    """``teacher_names``, or the keys of a dict of teacher probabilities."""
    if teacher_names is None and isinstance(teacher_probas, dict):
        return [str(name) for name in teacher_probas]
    return teacher_names


def _check_teacher_names(teacher_names, n_teachers):
    """``teacher_names`` as a list of one name per teacher; default names for None."""
    if teacher_names is None:
        return [f"teacher_{i}" for i in range(n_teachers)]
    if isinstance(teacher_names, (str, bytes, bytearray)):
        kind = "string" if isinstance(teacher_names, str) else "bytes"
        raise ValueError(
            "teacher_names must be a list of names, one per teacher; got the "
            f"{kind} {teacher_names!r}."
        )
    teacher_names = list(teacher_names)
    if len(teacher_names) != n_teachers:
        raise ValueError(
            f"Got {len(teacher_names)} teacher names for {n_teachers} teachers."
        )
    return teacher_names


def _check_teachers(teacher_probas):
    """Teacher probabilities as one (n_teachers, n_samples, n_classes) array."""
    shape = _one_array_shape(teacher_probas)
    if shape is not None:
        raise ValueError(
            "teacher_probas must be a list of the teachers' probability arrays, "
            f"one per teacher; got one array of shape {shape}. Wrap it in a "
            "list for a single teacher: [proba]."
        )
    if isinstance(teacher_probas, dict):
        teacher_probas = list(teacher_probas.values())
    probas = [
        _probability_array(p, f"Teacher {i}") for i, p in enumerate(teacher_probas)
    ]
    if not probas:
        raise ValueError("teacher_probas must hold at least one teacher; got none.")
    shapes = {p.shape for p in probas}
    if len(shapes) != 1:
        raise ValueError(
            "Every teacher needs probabilities of the same shape; got shapes "
            f"{sorted(shapes)}."
        )
    for i, proba in enumerate(probas):
        _check_probability_rows(proba, f"Teacher {i}")
    return np.asarray(probas)


def _one_array_shape(teacher_probas):
    """The shape of ``teacher_probas`` if it is one 2-D array of numbers (an
    ndarray, a DataFrame or nested lists) rather than a sequence of the
    teachers' 2-D arrays; None otherwise."""
    if isinstance(teacher_probas, dict):
        return None
    if hasattr(teacher_probas, "columns"):
        return tuple(teacher_probas.shape) if teacher_probas.ndim == 2 else None
    try:
        values = np.asarray(teacher_probas)
    except ValueError:  # teachers of different shapes
        return None
    if values.ndim == 2 and values.dtype.kind in "biuf":
        return values.shape
    return None


def _row_kl(p, q):
    """``KL(p || q)`` of each row (last axis), ``q`` clipped at ``_EPS``."""
    ratio = np.log(np.clip(p, _EPS, None)) - np.log(np.clip(q, _EPS, None))
    return np.sum(np.where(p > 0, p * ratio, 0.0), axis=-1)


def centroid(teacher_probas, *, weights=None):
    """Mean distribution of the teachers, optionally weighted.

    Parameters
    ----------
    teacher_probas : sequence or dict of array-like of shape (n_samples, n_classes)
        Probability rows of each teacher, one array per teacher (a single
        2-D array is refused: wrap one teacher's array in a list).
    weights : array-like of shape (n_teachers,) or (n_samples, n_teachers), default=None
        Teacher weights, per teacher or per sample: non-negative and summing
        to 1 over the teachers (on each row); uniform when ``None``.

    Returns
    -------
    centroid : ndarray of shape (n_samples, n_classes)
        The weighted mean of the teachers' rows; each row sums to one.

    Examples
    --------
    >>> from skhpmkd.metrics import centroid
    >>> centroid([[[1.0, 0.0]], [[0.5, 0.5]]])
    array([[0.75, 0.25]])
    """
    probas = _check_teachers(teacher_probas)
    n_teachers, n_samples, _ = probas.shape
    if weights is None:
        weights = np.full(n_teachers, 1.0 / n_teachers)
    weights = np.asarray(weights, dtype=float)
    if weights.shape not in ((n_teachers,), (n_samples, n_teachers)):
        raise ValueError(
            f"weights must have shape ({n_teachers},) or ({n_samples}, "
            f"{n_teachers}) for {n_teachers} teachers and {n_samples} rows; got "
            f"shape {weights.shape}."
        )
    weights = np.broadcast_to(weights, (n_samples, n_teachers))
    if np.any(weights < 0):
        raise ValueError(
            f"weights must be non-negative; got {float(weights[weights < 0][0])}."
        )
    sums = weights.sum(axis=1)
    off = ~np.isclose(sums, 1.0, rtol=0.0, atol=1e-6)
    if off.any():
        raise ValueError(
            "weights must sum to 1 over the teachers; got a sum of "
            f"{float(sums[off][0])}. Divide them by their sum."
        )
    return np.einsum("mnk,nm->nk", probas, weights)


def individual_fidelity(teacher_probas, student_proba, *, sample_weight=None):
    """``KL(T_i || S)`` of the student to each teacher.

    Parameters
    ----------
    teacher_probas : sequence or dict of array-like of shape (n_samples, n_classes)
        Probability rows of each teacher, one array per teacher (a single
        2-D array is refused: wrap one teacher's array in a list).
    student_proba : array-like of shape (n_samples, n_classes)
        Probability rows of the student.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    kl : ndarray of shape (n_teachers,)
        Mean KL divergence from each teacher to the student, in nats; lower
        means the student is more faithful to that teacher.

    Examples
    --------
    >>> from skhpmkd.metrics import individual_fidelity
    >>> individual_fidelity([[[0.5, 0.5]], [[0.9, 0.1]]], [[0.9, 0.1]]).round(4)
    array([0.5108, 0.    ])
    """
    probas = _check_teachers(teacher_probas)
    return np.array(
        [kl_divergence(p, student_proba, sample_weight=sample_weight) for p in probas]
    )


def centroid_fidelity(
    teacher_probas, student_proba, *, weights=None, sample_weight=None
):
    """``KL(centroid || S)``: fidelity of the student to the teachers' mean.

    Parameters
    ----------
    teacher_probas : sequence or dict of array-like of shape (n_samples, n_classes)
        Probability rows of each teacher, one array per teacher (a single
        2-D array is refused: wrap one teacher's array in a list).
    student_proba : array-like of shape (n_samples, n_classes)
        Probability rows of the student.
    weights : array-like of shape (n_teachers,) or (n_samples, n_teachers), default=None
        Teacher weights of the centroid, non-negative and summing to 1 over
        the teachers (on each row); uniform when ``None``.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    kl : float
        Mean KL divergence from the centroid to the student, in nats.

    Examples
    --------
    >>> from skhpmkd.metrics import centroid_fidelity
    >>> round(centroid_fidelity([[[1.0, 0.0]], [[0.0, 1.0]]], [[0.5, 0.5]]), 4)
    0.0
    """
    center = centroid(teacher_probas, weights=weights)
    return kl_divergence(center, student_proba, sample_weight=sample_weight)


def teacher_diversity(teacher_probas, *, weights=None, sample_weight=None):
    """``KL(T_i || centroid)``: how far each teacher is from the teachers' mean.

    Parameters
    ----------
    teacher_probas : sequence or dict of array-like of shape (n_samples, n_classes)
        Probability rows of each teacher, one array per teacher (a single
        2-D array is refused: wrap one teacher's array in a list).
    weights : array-like of shape (n_teachers,) or (n_samples, n_teachers), default=None
        Teacher weights of the centroid, non-negative and summing to 1 over
        the teachers (on each row); uniform when ``None``.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    kl : ndarray of shape (n_teachers,)
        Mean KL divergence of each teacher from the centroid, in nats.

    Examples
    --------
    >>> from skhpmkd.metrics import teacher_diversity
    >>> teacher_diversity([[[1.0, 0.0]], [[0.0, 1.0]]]).round(4)
    array([0.6931, 0.6931])
    """
    probas = _check_teachers(teacher_probas)
    center = centroid(probas, weights=weights)
    return np.array(
        [kl_divergence(p, center, sample_weight=sample_weight) for p in probas]
    )


def pairwise_kl(teacher_probas, *, sample_weight=None):
    """Matrix of ``KL(T_i || T_j)`` between every pair of teachers.

    Parameters
    ----------
    teacher_probas : sequence or dict of array-like of shape (n_samples, n_classes)
        Probability rows of each teacher, one array per teacher (a single
        2-D array is refused: wrap one teacher's array in a list).
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    kl : ndarray of shape (n_teachers, n_teachers)
        Row ``i``, column ``j`` holds ``KL(T_i || T_j)``; the diagonal is 0.
        The matrix is not symmetric.

    Examples
    --------
    >>> from skhpmkd.metrics import pairwise_kl
    >>> pairwise_kl([[[0.5, 0.5]], [[0.9, 0.1]]]).round(4)
    array([[0.    , 0.5108],
           [0.3681, 0.    ]])
    """
    probas = _check_teachers(teacher_probas)
    weights = _row_weights(sample_weight, probas.shape[1])
    per_row = _row_kl(probas[:, None], probas[None, :])
    return np.average(per_row, axis=-1, weights=weights)


def fidelity_report(
    teacher_probas,
    student_proba,
    *,
    teacher_names=None,
    weights=None,
    sample_weight=None,
):
    """Every fidelity and diversity measure between teachers and one student.

    Parameters
    ----------
    teacher_probas : sequence or dict of array-like of shape (n_samples, n_classes)
        Probability rows of each teacher, one array per teacher (a single
        2-D array is refused: wrap one teacher's array in a list); a dict's
        keys name the teachers.
    student_proba : array-like of shape (n_samples, n_classes)
        Probability rows of the student.
    teacher_names : list of str, default=None
        Names of the teachers, one per teacher (a single string or bytes
        object is refused); the dict keys, or ``teacher_0``, ... when ``None``.
    weights : array-like of shape (n_teachers,) or (n_samples, n_teachers), default=None
        Teacher weights of the centroid, non-negative and summing to 1 over
        the teachers (on each row); uniform when ``None``.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    report : dict
        ``"teachers"``: a dict of equal-length lists (``pandas.DataFrame``
        ready) with ``name``, ``individual_fidelity`` (``KL(T_i || S)``),
        ``teacher_diversity`` (``KL(T_i || centroid)``) and
        ``top1_agreement`` (student vs teacher); ``"centroid_fidelity"``
        (``KL(centroid || S)``); ``"centroid_top1_agreement"``;
        ``"mean_individual_fidelity"`` (the plain mean over teachers, whatever
        the ``weights``); ``"pairwise_kl"``, the
        (n_teachers, n_teachers) matrix of ``KL(T_i || T_j)``.

    Examples
    --------
    >>> from skhpmkd.metrics import fidelity_report
    >>> report = fidelity_report(
    ...     {"a": [[0.5, 0.5]], "b": [[0.9, 0.1]]}, [[0.9, 0.1]]
    ... )
    >>> report["teachers"]["name"]
    ['a', 'b']
    >>> [round(kl, 4) for kl in report["teachers"]["individual_fidelity"]]
    [0.5108, 0.0]
    """
    teacher_names = _dict_teacher_names(teacher_probas, teacher_names)
    # Read once: teacher_probas may be a generator.
    probas = _check_teachers(teacher_probas)
    teacher_names = _check_teacher_names(teacher_names, len(probas))
    individual = individual_fidelity(probas, student_proba, sample_weight=sample_weight)
    center = centroid(probas, weights=weights)
    return {
        "teachers": {
            "name": list(teacher_names),
            "individual_fidelity": individual.tolist(),
            "teacher_diversity": teacher_diversity(
                probas, weights=weights, sample_weight=sample_weight
            ).tolist(),
            "top1_agreement": [
                top1_agreement(p, student_proba, sample_weight=sample_weight)
                for p in probas
            ],
        },
        "centroid_fidelity": kl_divergence(
            center, student_proba, sample_weight=sample_weight
        ),
        "centroid_top1_agreement": top1_agreement(
            center, student_proba, sample_weight=sample_weight
        ),
        "mean_individual_fidelity": float(individual.mean()),
        "pairwise_kl": pairwise_kl(probas, sample_weight=sample_weight),
    }
