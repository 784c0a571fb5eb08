"""Shared by every skhpmkd estimator: labels from probabilities, a column per class."""

import warnings

import numpy as np
import sklearn
from scipy.sparse import issparse
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._version import __version__


def allows_nan(*estimators):
    """Whether every estimator accepts missing values in ``X``.

    A :class:`~sklearn.pipeline.Pipeline` is tagged as rejecting them
    whatever its steps; here it accepts them when its steps do up to the
    first imputer (a step with a ``missing_values`` parameter), after which
    no step sees a missing value.

    Examples
    --------
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skhpmkd._base import allows_nan
    >>> allows_nan(make_pipeline(StandardScaler(), LogisticRegression()))
    False
    >>> allows_nan(make_pipeline(SimpleImputer(), LogisticRegression()))
    True
    """
    return all(_allows_nan(estimator) for estimator in estimators)


def imputed_logistic(C=1.0):
    """Median imputer, standard scaler and logistic regression: accepts NaN.

    The logistic student family and the default logistic teacher.
    """
    return _imputed_and_scaled(LogisticRegression(C=C, max_iter=1000))


def imputed_mlp(hidden_units):
    """Median imputer, standard scaler and a one-hidden-layer perceptron.

    The perceptron student family; its ``hidden_units`` set its size. Adam
    runs at a learning rate of 0.01, ten times scikit-learn's default: on
    soft targets of the benchmark's data sets about as accurate, and it
    stops after about half the epochs.
    """
    return _imputed_and_scaled(
        MLPClassifier(hidden_layer_sizes=(hidden_units,), learning_rate_init=0.01)
    )


def _imputed_and_scaled(estimator):
    """``estimator`` behind a median imputer and a standard scaler."""
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), estimator)


def _allows_nan(estimator):
    if not hasattr(estimator, "fit"):
        # Not an estimator: fit says so, after the input checks.
        return False
    if isinstance(estimator, FrozenEstimator):
        return _allows_nan(estimator.estimator)
    if not isinstance(estimator, Pipeline):
        return get_tags(estimator).input_tags.allow_nan
    for _, step in estimator.steps:
        if step is None or step == "passthrough":
            continue
        if not hasattr(step, "get_params") or not _allows_nan(step):
            return False
        if "missing_values" in step.get_params(deep=False):
            return True
    return True


class SkhpmkdVersionWarning(InconsistentVersionWarning):
    """A saved skhpmkd object is loaded under another skhpmkd version.

    A subclass of scikit-learn's warning, so that filters of it apply. Its
    ``original_sklearn_version`` and ``current_sklearn_version`` are
    scikit-learn's versions, as in the parent; skhpmkd's are
    ``original_skhpmkd_version`` and ``current_skhpmkd_version``. The saved
    versions are ``None`` when the object was saved before skhpmkd recorded
    them.
    """

    def __init__(
        self,
        *,
        estimator_name,
        current_skhpmkd_version,
        original_skhpmkd_version,
        current_sklearn_version,
        original_sklearn_version,
    ):
        super().__init__(
            estimator_name=estimator_name,
            current_sklearn_version=current_sklearn_version,
            original_sklearn_version=original_sklearn_version,
        )
        self.current_skhpmkd_version = current_skhpmkd_version
        self.original_skhpmkd_version = original_skhpmkd_version

    def __str__(self):
        saved = self.original_skhpmkd_version
        saved = "an earlier skhpmkd" if saved is None else f"skhpmkd {saved}"
        return (
            f"Trying to load {self.estimator_name} saved with {saved} when using "
            f"skhpmkd {self.current_skhpmkd_version}. This might lead to breaking "
            "code or invalid results: load it with the version it was saved "
            "with, or refit it."
        )


class VersionedStateMixin:
    """Saved state carries the skhpmkd version; loading it under another warns.

    scikit-learn records its own version only for its own classes; this does
    the same for skhpmkd's, through pickle, joblib and :mod:`skops.io`.
    """

    def __getstate__(self):
        state = super().__getstate__()
        state["_skhpmkd_version"] = __version__
        state["_skhpmkd_sklearn_version"] = sklearn.__version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        # None: saved before skhpmkd recorded its version.
        saved = state.pop("_skhpmkd_version", None)
        saved_sklearn = state.pop("_skhpmkd_sklearn_version", None)
        if saved != __version__:
            warnings.warn(
                SkhpmkdVersionWarning(
                    estimator_name=type(self).__name__,
                    current_skhpmkd_version=__version__,
                    original_skhpmkd_version=saved,
                    current_sklearn_version=sklearn.__version__,
                    original_sklearn_version=saved_sklearn,
                )
            )
        super().__setstate__(state)


def refuse_nan(estimator, X, refusers, input_name="X"):
    """Raise if validated ``X`` holds NaN and some model that sees it refuses NaN.

    ``refusers`` are those models, as :meth:`SoftTargetOutputMixin._nan_refusers`
    names them; the error names them, where scikit-learn's would blame
    ``estimator``, which passes ``X`` on. A DataFrame is left to the models,
    which check their own input.
    """
    if not refusers or hasattr(X, "iloc"):
        return
    values = X.data if issparse(X) else X
    if values.dtype.kind == "O":
        # Validation lets an object array through (a pandas Categorical of
        # strings); converting it raises the error the models would raise.
        values = np.asarray(values, dtype=float)
    if not np.isnan(values).any():
        return
    listed = ", ".join(refusers[:-1]) + " and " if len(refusers) > 1 else ""
    it, does = ("them", "do") if len(refusers) > 1 else ("it", "does")
    raise ValueError(
        f"Input {input_name} contains NaN. {type(estimator).__name__} gives "
        f"{input_name} to "
        f"{listed}{refusers[-1]}, which {does} not accept missing values "
        f"encoded as NaN. Put an imputer in front of {it}, for example "
        "make_pipeline(SimpleImputer(), model), or choose models that accept "
        "NaN, such as HistGradientBoostingClassifier."
    )


class SoftTargetOutputMixin(VersionedStateMixin):
    """``predict`` from ``predict_proba``, and a soft-target column per class.

    Subclasses list the models that see ``X``, with their roles, in
    ``_named_input_estimators``; ``X`` may hold NaN only when all of them
    accept it.
    """

    # Their ``fit_transform`` gives out-of-fold soft targets: used as a
    # teacher, such an estimator is fitted once, not cross-fitted.
    _fit_transform_gives_soft_targets = True

    def _input_estimators(self):
        return [estimator for _, estimator in self._named_input_estimators()]

    def _nan_refusers(self):
        """The models that see ``X`` and refuse NaN, with their roles.

        For example ``("LogisticRegression (the teacher)",)``; a model that is
        itself an skhpmkd estimator is looked into.
        """
        refusers = []
        for role, estimator in self._named_input_estimators():
            if allows_nan(estimator):
                continue
            inner = ()
            if isinstance(estimator, SoftTargetOutputMixin):
                inner = estimator._nan_refusers()
            name = type(estimator).__name__
            refusers += [f"{model[:-1]} of the {role} {name})" for model in inner]
            if not inner:
                refusers.append(f"{name} (the {role})")
        return tuple(refusers)

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
            Not used to name the output; checked against the input features
            seen in ``fit``, as scikit-learn's transformers do.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"<estimator>_proba_<class>"`` for each class.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}_proba_{c}" for c in self.classes_], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.input_tags.allow_nan = not self._nan_refusers()
        except (TypeError, ValueError):
            # Invalid sub-estimator parameters are reported by fit, not here.
            tags.input_tags.allow_nan = False
        return tags
