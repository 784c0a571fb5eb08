"""Shared by every skhpmkd estimator: labels from probabilities, a column per class."""

import numpy as np
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted


def allows_nan(*estimators):
    """Whether every estimator accepts missing values in ``X``."""
    return all(get_tags(estimator).input_tags.allow_nan for estimator in estimators)


class SoftTargetOutputMixin:
    """``predict`` from ``predict_proba``, and a soft-target column per class.

    Subclasses list the models that see ``X`` in ``_input_estimators``; ``X``
    may hold NaN only when all of them accept it.
    """

    def _finite_mode(self):
        """``ensure_all_finite`` for ``validate_data``."""
        return "allow-nan" if allows_nan(*self._input_estimators()) else True

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def get_feature_names_out(self, input_features=None):
        """Names of the soft-target columns, one per class.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; present for API consistency.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"<estimator>_proba_<class>"`` for each class.
        """
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}_proba_{c}" for c in self.classes_], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.input_tags.allow_nan = self._finite_mode() == "allow-nan"
        except (TypeError, ValueError):
            # Invalid sub-estimator parameters are reported by fit, not here.
            tags.input_tags.allow_nan = False
        return tags
