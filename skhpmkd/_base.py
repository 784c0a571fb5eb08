"""Shared by every skhpmkd estimator: labels from probabilities, a column per class."""

import numpy as np
from sklearn.utils.validation import check_is_fitted


class SoftTargetOutputMixin:
    """``predict`` from ``predict_proba``, and a soft-target column per class."""

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
