"""Deployable student classifiers for families that learn soft targets indirectly."""

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import VersionedStateMixin


def normalize_proba(values):
    """Clip regressed class probabilities to be non-negative and rows to sum to 1."""
    values = np.clip(np.asarray(values, dtype=float), 0.0, None)
    total = values.sum(axis=1, keepdims=True)
    uniform = np.full_like(values, 1.0 / values.shape[1])
    return np.divide(values, total, out=uniform, where=total > 0)


class SoftTargetClassifier(VersionedStateMixin, ClassifierMixin, BaseEstimator):
    """Classifier that regresses class probabilities with a multi-output regressor.

    A tree grown with the squared error on a soft target matrix ``Q`` picks the
    same splits as a classification tree grown with the weighted Gini impurity
    on rows duplicated once per class with weights ``Q``, and its leaves hold
    the same class frequencies. Fitting the regressor on ``Q`` directly is that
    exact soft-label fit without multiplying the rows. Fitted on hard labels, it
    regresses the one-hot encoding. A regressor with ``monotonic_cst`` set
    regresses the positive class of a binary task alone: the constraint takes
    one output, and that tree makes the same impurity decrease at every split
    (the same tree up to how ties are broken).

    Parameters
    ----------
    regressor : regressor object
        Multi-output regressor, e.g. ``DecisionTreeRegressor`` or
        ``RandomForestRegressor``.

    Attributes
    ----------
    regressor_ : regressor object
        The fitted regressor.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skhpmkd._students import SoftTargetClassifier
    >>> clf = SoftTargetClassifier(DecisionTreeRegressor(max_depth=2))
    >>> clf.fit([[0.0], [1.0], [2.0], [3.0]], ["a", "a", "b", "b"]).predict([[2.5]])
    array(['b'], dtype='<U1')
    """

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X, y, sample_weight=None):
        """Fit on hard labels by regressing their one-hot encoding."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        binarizer = LabelBinarizer().fit(y)
        if len(binarizer.classes_) < 2:
            raise ValueError(
                "SoftTargetClassifier needs at least 2 classes, but y holds only "
                f"one class: {binarizer.classes_.tolist()[0]!r}."
            )
        onehot = binarizer.transform(y)
        if onehot.shape[1] == 1:
            onehot = np.column_stack([1 - onehot[:, 0], onehot[:, 0]])
        return self.fit_soft(X, onehot, binarizer.classes_, sample_weight)

    def fit_soft(self, X, soft_targets, classes, sample_weight=None):
        """Fit on a soft target matrix whose columns follow ``classes``."""
        X = validate_data(self, X, ensure_all_finite="allow-nan")
        self.classes_ = np.asarray(classes)
        self.regressor_ = clone(self.regressor)
        soft_targets = np.asarray(soft_targets, dtype=float)
        if self.regressor_.get_params().get("monotonic_cst") is not None:
            if len(self.classes_) > 2:
                raise ValueError(
                    "monotonic_cst needs a binary task, as in scikit-learn's "
                    f"classifiers, but there are {len(self.classes_)} classes."
                )
            # Monotonicity constraints take one output. The squared error of
            # the positive column alone equals that of both columns (each has
            # the same variance), so the splits are as good (ties aside).
            soft_targets = soft_targets[:, 1]
        self.regressor_.fit(X, soft_targets, sample_weight=sample_weight)
        return self

    def predict_proba(self, X):
        """Class probabilities: the regressed targets, clipped and renormalised."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        values = self.regressor_.predict(X).reshape(len(X), -1)
        if values.shape[1] == 1:
            values = np.column_stack([1 - values[:, 0], values[:, 0]])
        return normalize_proba(values)

    def predict(self, X):
        """Most probable class."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class MarginClassifier(VersionedStateMixin, ClassifierMixin, BaseEstimator):
    """Classifier around a booster that was trained with a custom objective.

    A LightGBM model trained with a callable objective predicts raw margins
    without the initial scores it started from; this wrapper adds that constant
    log-prior back and applies the softmax. It wraps a fitted booster and does
    not train one: a clone of it cannot be fitted (cross-validate the
    distiller that trained it instead).

    Parameters
    ----------
    estimator : fitted estimator
        Booster whose ``predict(X, raw_score=True)`` returns margins.
    classes : array-like of shape (n_classes,)
        Class labels in margin column order.
    offset : array-like of shape (n_classes,)
        Constant added to every row of margins (the initial score).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features of the wrapped booster.
    """

    def __init__(self, estimator, classes, offset):
        self.estimator = estimator
        self.classes = classes
        self.offset = offset

    def fit(self, X=None, y=None):
        """Record the fitted booster's attributes; the booster is not refitted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            The rows the booster was fitted on, for their column names:
            LightGBM reports names with spaces replaced by underscores. Without
            ``X``, the booster's own names are used.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The wrapper.
        """
        try:
            check_is_fitted(self.estimator)
        except NotFittedError:
            raise NotFittedError(
                f"MarginClassifier wraps a fitted booster and cannot train "
                f"{type(self.estimator).__name__} itself; a clone of it (as in "
                "cross_val_score or GridSearchCV) holds an unfitted copy. To "
                "cross-validate a distilled LightGBM student, cross-validate the "
                "distiller that trains it (TemperatureScheduledDistiller or "
                "HPMKDClassifier)."
            ) from None
        self.classes_ = np.asarray(self.classes)
        self.offset_ = np.asarray(self.offset, dtype=float)
        if X is not None:
            validate_data(self, X, skip_check_array=True)
        else:
            self.n_features_in_ = self.estimator.n_features_in_
            if hasattr(self.estimator, "feature_names_in_"):
                self.feature_names_in_ = self.estimator.feature_names_in_
        if self.n_features_in_ != self.estimator.n_features_in_:
            raise ValueError(
                f"X has {self.n_features_in_} features, but the booster was "
                f"fitted on {self.estimator.n_features_in_}."
            )
        return self

    def decision_function(self, X):
        """Raw margins including the initial score, shape (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, skip_check_array=True)
        raw = np.asarray(self.estimator.predict(X, raw_score=True), dtype=float)
        if raw.ndim == 1:
            raw = np.column_stack([np.zeros(len(raw)), raw])
        return raw + self.offset_

    def predict_proba(self, X):
        """Class probabilities."""
        return softmax(self.decision_function(X), axis=1)

    def predict(self, X):
        """Most probable class."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]
