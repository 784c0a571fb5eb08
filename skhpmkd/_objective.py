"""Knowledge-distillation loss, its gradient and Hessian, as a boosting objective."""

import numpy as np
from scipy.special import log_softmax, softmax

from ._schedule import AdaptiveTemperature

_MIN_HESSIAN = 1e-6
# NumPy adds up to seven terms of a row one after another (pairwise from
# eight on), so a column-by-column sum of that many is the same sum.
_MAX_COLUMNWISE_CLASSES = 7


def row_softmax(x):
    """Row-wise softmax of a 2-D array, as :func:`scipy.special.softmax` does.

    With at most seven columns the row maximum and sum are taken column by
    column, in the order NumPy adds them: the same values, about twice as fast
    as reducing along the short axis, in every boosting round.
    """
    n_columns = x.shape[1]
    if n_columns > _MAX_COLUMNWISE_CLASSES:
        return softmax(x, axis=1)
    peak = x[:, 0].copy()
    for column in range(1, n_columns):
        np.maximum(peak, x[:, column], out=peak)
    shifted = np.exp(x - peak[:, None])
    total = shifted[:, 0].copy()
    for column in range(1, n_columns):
        total += shifted[:, column]
    return shifted / total[:, None]


def tempered_softmax(logits, temperature):
    """Return ``softmax(logits / temperature)`` row-wise."""
    return row_softmax(np.asarray(logits, dtype=float) / temperature)


def kd_loss(margins, teacher_logits, y_onehot, alpha, temperature):
    """Per-row KD loss ``alpha T^2 KL(q^T || p^T) + (1 - alpha) CE(y, p)``.

    Parameters
    ----------
    margins : ndarray of shape (n_samples, n_classes)
        Student raw margins ``z``.
    teacher_logits : ndarray of shape (n_samples, n_classes)
        Teacher logits ``t`` (log-probabilities are fine: softmax ignores a
        per-row constant).
    y_onehot : ndarray of shape (n_samples, n_classes)
        One-hot hard labels; all-zero rows for unlabelled rows.
    alpha : float or ndarray of shape (n_samples,)
        Weight of the soft term per row.
    temperature : float
        Distillation temperature ``T``.

    Returns
    -------
    loss : ndarray of shape (n_samples,)
    """
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), (margins.shape[0],))
    log_q_t = log_softmax(teacher_logits / temperature, axis=1)
    log_p_t = log_softmax(margins / temperature, axis=1)
    kl = np.sum(np.exp(log_q_t) * (log_q_t - log_p_t), axis=1)
    ce = -np.sum(y_onehot * log_softmax(margins, axis=1), axis=1)
    return alpha * temperature**2 * kl + (1 - alpha) * ce


def kd_gradient_hessian(margins, teacher_logits, y_onehot, alpha, temperature):
    """Gradient and diagonal Hessian of :func:`kd_loss` with respect to margins.

    ``g = alpha T (p^T - q^T) + (1 - alpha)(p - y)`` and
    ``h = alpha p^T (1 - p^T) + (1 - alpha) p (1 - p)``.
    """
    q_t = tempered_softmax(teacher_logits, temperature)
    return _gradient_hessian(margins, q_t, y_onehot, alpha, temperature)


def _gradient_hessian(margins, q_t, y_onehot, alpha, temperature):
    """:func:`kd_gradient_hessian` given the tempered teacher ``q_t``."""
    alpha = np.asarray(alpha, dtype=float)
    alpha = np.broadcast_to(alpha, (margins.shape[0],))[:, None]
    p = row_softmax(margins)
    p_t = p if temperature == 1.0 else tempered_softmax(margins, temperature)
    return _kd_terms(p, p_t, q_t, y_onehot, alpha, temperature)


def _kd_terms(p, p_t, q_t, y, alpha, temperature):
    """The KD gradient and diagonal Hessian from the probabilities they involve.

    ``p`` and ``p_t`` are the student's probabilities at temperature 1 and
    ``T``, ``q_t`` the tempered teacher's, ``y`` the one-hot labels; every
    argument broadcasts against the others.
    """
    grad = alpha * temperature * (p_t - q_t) + (1 - alpha) * (p - y)
    hess = alpha * p_t * (1 - p_t) + (1 - alpha) * p * (1 - p)
    return grad, np.maximum(hess, _MIN_HESSIAN)


def sigmoid(z):
    """``softmax([0, z])[1]`` element-wise, shifted by the maximum as softmax is.

    Arithmetically the same as the second column of :func:`tempered_softmax`
    on ``[0, z]`` at temperature 1, without the row reductions.
    """
    e = np.exp(-np.abs(z))
    return np.where(z > 0, 1.0, e) / (1.0 + e)


def _binary_gradient_hessian(z, q1, y1, alpha, temperature):
    """:func:`_gradient_hessian` of the second class when margins are ``[0, z]``.

    The gradient and Hessian of the first class are their negative and equal
    respectively; a binary booster needs only the second.
    """
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), z.shape)
    p = sigmoid(z)
    p_t = p if temperature == 1.0 else sigmoid(z / temperature)
    return _kd_terms(p, p_t, q1, y1, alpha, temperature)


def mean_kl(teacher_logits, margins, temperature=1.0, sample_weight=None):
    """Mean ``KL(softmax(t / T) || softmax(z / T))`` over rows, weighted by
    ``sample_weight`` when given."""
    log_q = log_softmax(teacher_logits / temperature, axis=1)
    log_p = log_softmax(margins / temperature, axis=1)
    kl = np.sum(np.exp(log_q) * (log_q - log_p), axis=1)
    if sample_weight is None or not np.size(sample_weight):
        return float(np.mean(kl))
    return float(np.average(kl, weights=sample_weight))


class KDObjective:
    """Picklable KD objective for XGBoost and LightGBM students.

    Called once per boosting round with the current margins; it returns the
    gradient and diagonal Hessian of the KD loss and records the temperature
    of each round in ``temperatures_``.

    Parameters
    ----------
    teacher_logits : ndarray of shape (n_samples, n_classes)
        Teacher logits of the training rows.
    y_onehot : ndarray of shape (n_samples, n_classes)
        One-hot hard labels (zero rows where unlabelled).
    alpha : ndarray of shape (n_samples,)
        Weight of the soft term per row.
    schedule : ndarray of shape (n_rounds,) or AdaptiveTemperature
        Temperature of each round; rounds past the end keep the last value.
    """

    def __init__(self, teacher_logits, y_onehot, alpha, schedule):
        self.teacher_logits = teacher_logits
        self.y_onehot = y_onehot
        self.alpha = alpha
        self.schedule = schedule
        self.temperatures_ = []
        self._last_tempered = (None, None)

    def __deepcopy__(self, memo):
        # LightGBM deep-copies its parameters before training; sharing the
        # objective keeps one record of the rounds and no copy of the targets.
        return self

    def _next_temperature(self, margins, sample_weight):
        """This round's temperature, recorded in ``temperatures_``.

        ``margins`` are one per row for a binary booster (standing for
        ``[0, z]``); only the adaptive schedule looks at them, and at the row
        weights of its KL.
        """
        if isinstance(self.schedule, AdaptiveTemperature):
            if margins.ndim == 1:
                margins = np.column_stack([np.zeros(len(margins)), margins])
            kl = mean_kl(self.teacher_logits, margins, sample_weight=sample_weight)
            temperature = self.schedule.next(kl)
        else:
            rounds = np.asarray(self.schedule, dtype=float)
            temperature = float(rounds[min(len(self.temperatures_), len(rounds) - 1)])
        self.temperatures_.append(temperature)
        return temperature

    def _tempered_teacher(self, temperature):
        # A constant temperature gives the same tempered targets every round.
        if self._last_tempered[0] != temperature:
            q_t = tempered_softmax(self.teacher_logits, temperature)
            self._last_tempered = (temperature, q_t)
        return self._last_tempered[1]

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=float)
        n_classes = self.teacher_logits.shape[1]
        if y_pred.ndim == 1 or y_pred.shape[1] == 1:
            return self._binary(y_pred, sample_weight)
        margins = y_pred.reshape(-1, n_classes)
        temperature = self._next_temperature(margins, sample_weight)
        grad, hess = _gradient_hessian(
            margins,
            self._tempered_teacher(temperature),
            self.y_onehot,
            self.alpha,
            temperature,
        )
        return _weighted(grad, hess, sample_weight)

    def _binary(self, y_pred, sample_weight):
        # One margin z per row stands for the margins [0, z]: the second
        # class's gradient and Hessian, without two-column softmaxes.
        z = y_pred.reshape(-1)
        temperature = self._next_temperature(z, sample_weight)
        grad, hess = _binary_gradient_hessian(
            z,
            self._tempered_teacher(temperature)[:, 1],
            self.y_onehot[:, 1],
            self.alpha,
            temperature,
        )
        grad, hess = _weighted(grad, hess, sample_weight)
        return grad.reshape(y_pred.shape), hess.reshape(y_pred.shape)


def _weighted(grad, hess, sample_weight):
    """Gradient and Hessian times the per-row ``sample_weight``, if any."""
    if sample_weight is None or not np.size(sample_weight):
        return grad, hess
    weight = np.asarray(sample_weight, dtype=float)
    if grad.ndim == 2:
        weight = weight[:, None]
    return grad * weight, hess * weight
