"""Per-sample teacher weights: uniform, CAMKD, entropy and learned attention.

Every function takes the teachers' probabilities stacked as ``P`` of shape
(n_teachers, n_samples, n_classes) and returns weights of shape
(n_samples, n_teachers) whose rows sum to one. Fusing with them is a weighted
average of the teacher distributions, which is exactly per-sample weighting
of the teachers' terms in the distillation loss.
"""

import numpy as np
from scipy.optimize import minimize
from scipy.special import softmax

ATTENTION_FEATURES = ("confidence", "agreement", "performance", "diversity")

_EPS = 1e-12


def stack_probas(probas):
    """Teacher probabilities as one float array of shape (M, n, K)."""
    return np.asarray([np.asarray(p, dtype=float) for p in probas])


def fuse(probas, weights):
    """Per-sample weighted average of the teachers; rows sum to one.

    Parameters
    ----------
    probas : ndarray of shape (n_teachers, n_samples, n_classes)
    weights : ndarray of shape (n_samples, n_teachers)

    Returns
    -------
    fused : ndarray of shape (n_samples, n_classes)
    """
    fused = np.einsum("mnk,nm->nk", probas, weights)
    return fused / fused.sum(axis=1, keepdims=True)


def uniform_weights(probas):
    """``1 / M`` for every teacher and row: vanilla multi-teacher KD."""
    n_teachers, n_samples, _ = probas.shape
    return np.full((n_samples, n_teachers), 1.0 / n_teachers)


def row_entropy(proba):
    """Shannon entropy of each row, in nats."""
    return -np.sum(proba * np.log(np.clip(proba, _EPS, None)), axis=-1)


def entropy_weights(probas):
    """Label-free confidence weights ``softmax_i(-H(p_i(x)))``.

    A teacher that is sure of a row (low entropy) gets more weight there.
    """
    return softmax(-row_entropy(probas).T, axis=1)


def true_class_cross_entropy(probas, y):
    """``CE_i(x) = -log p_i(y | x)`` of shape (n_samples, n_teachers)."""
    picked = probas[:, np.arange(probas.shape[1]), y]
    return -np.log(np.clip(picked, _EPS, None)).T


def camkd_weights(probas, y):
    """CAMKD weights ``w_i = (1 - softmax_i(CE_i(x))) / (M - 1)``.

    They need the label of every row: teachers with a lower cross-entropy on
    the true class get more weight. A single teacher gets weight one.
    """
    n_teachers = probas.shape[0]
    if n_teachers == 1:
        return uniform_weights(probas)
    scores = softmax(true_class_cross_entropy(probas, y), axis=1)
    return (1.0 - scores) / (n_teachers - 1)


def teacher_performance(probas, y, sample_weight=None):
    """Global out-of-fold performance: minus the log-loss of each teacher.

    With ``sample_weight``, the log-loss is the weighted mean over the rows.
    """
    cross_entropy = true_class_cross_entropy(probas, y)
    return -np.average(cross_entropy, axis=0, weights=sample_weight)


def _total_variation(p, q):
    return 0.5 * np.abs(p - q).sum(axis=-1)


def teacher_features(probas, performance):
    """Label-free features of each teacher on each row.

    Parameters
    ----------
    probas : ndarray of shape (n_teachers, n_samples, n_classes)
        Teacher probabilities.
    performance : ndarray of shape (n_teachers,)
        Global out-of-fold performance from :func:`teacher_performance`.

    Returns
    -------
    features : ndarray of shape (n_samples, n_teachers, 4)
        In the order of ``ATTENTION_FEATURES``: confidence (one minus the
        normalised entropy), agreement with the consensus (one minus the total
        variation distance to the teachers' mean), global performance (minus
        the out-of-fold log-loss) and diversity (mean total variation distance
        to the other teachers). All but the performance lie in ``[0, 1]``.
    """
    n_teachers, n_samples, n_classes = probas.shape
    confidence = 1.0 - row_entropy(probas) / np.log(max(n_classes, 2))
    consensus = probas.mean(axis=0)
    agreement = 1.0 - _total_variation(probas, consensus[None])
    distances = _total_variation(probas[:, None], probas[None, :])
    diversity = distances.sum(axis=1) / max(n_teachers - 1, 1)
    performance = np.broadcast_to(
        np.asarray(performance, dtype=float)[:, None], (n_teachers, n_samples)
    )
    features = np.stack([confidence, agreement, performance, diversity], axis=-1)
    return np.transpose(features, (1, 0, 2))


def attention_weights(features, attention):
    """Per-sample weights ``softmax_i(a . features_i(x))``."""
    return softmax(features @ attention, axis=1)


def _attention_objective(attention, features, true_proba, l2, row_share=None):
    """Fused log-loss plus ``l2 ||a||^2`` and its gradient in ``a``.

    The log-loss is the mean over the rows, or with ``row_share`` (row
    weights that sum to one) the weighted mean.
    """
    weights = attention_weights(features, attention)
    fused = np.sum(weights * true_proba, axis=1)
    fused_true = np.clip(fused, _EPS, None)
    # d log q_y / d s_i = w_i (p_iy - q_y) / q_y for the scores s_i = a . f_i;
    # a row clipped at _EPS (every teacher gives its class about 0) has a
    # constant loss and no gradient.
    d_scores = weights * (true_proba - fused[:, None]) / fused_true[:, None]
    d_scores[fused <= _EPS] = 0.0
    if row_share is None:
        loss = -np.mean(np.log(fused_true)) + l2 * attention @ attention
        gradient = -np.einsum("nm,nmd->d", d_scores, features) / len(fused_true)
    else:
        loss = -row_share @ np.log(fused_true) + l2 * attention @ attention
        gradient = -np.einsum("n,nm,nmd->d", row_share, d_scores, features)
    return loss, gradient + 2.0 * l2 * attention


def fit_attention(features, probas, y, *, l2=1e-4, sample_weight=None):
    """Learn the attention vector ``a`` on out-of-fold predictions.

    L-BFGS minimises the (weighted) mean fused log-loss plus ``l2 ||a||^2``
    from ``a = 0``, which is the uniform average. The penalty is non-negative
    and zero at the start, so the fused log-loss at the returned ``a`` is
    never above the uniform average's on these rows; if the optimiser fails
    to improve on the start, ``a = 0`` is returned.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_teachers, n_features)
        From :func:`teacher_features`.
    probas : ndarray of shape (n_teachers, n_samples, n_classes)
        Out-of-fold teacher probabilities.
    y : ndarray of shape (n_samples,)
        Class codes.
    l2 : float, default=1e-4
        Strength of the penalty on ``a``.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights of the log-loss, normalised by their sum so that ``l2``
        keeps its strength: integer weights act as repeated rows.

    Returns
    -------
    attention : ndarray of shape (n_features,)
    """
    true_proba = probas[:, np.arange(probas.shape[1]), y].T
    row_share = None if sample_weight is None else sample_weight / sample_weight.sum()
    start = np.zeros(features.shape[-1])
    start_loss, _ = _attention_objective(start, features, true_proba, l2, row_share)
    result = minimize(
        _attention_objective,
        start,
        args=(features, true_proba, l2, row_share),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 200},
    )
    if not np.all(np.isfinite(result.x)) or result.fun > start_loss:
        return start
    return np.asarray(result.x, dtype=float)
