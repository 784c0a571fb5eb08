"""Whether the models users pass in give class probabilities."""

from sklearn.ensemble import StackingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import HasMethods


def has_predict_proba(estimator):
    """Whether ``estimator`` gives class probabilities once fitted.

    A :class:`~sklearn.ensemble.StackingClassifier` whose ``final_estimator``
    is None (its default) shows ``predict_proba`` only once fitted, when its
    final estimator is a logistic regression; so does a pipeline ending in one,
    and a search among them.

    Examples
    --------
    >>> from sklearn.ensemble import StackingClassifier
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skhpmkd._validation import has_predict_proba
    >>> stack = StackingClassifier([("tree", DecisionTreeClassifier())])
    >>> hasattr(stack, "predict_proba"), has_predict_proba(stack)
    (False, True)
    """
    if isinstance(estimator, Pipeline) and estimator.steps:
        return has_predict_proba(estimator.steps[-1][1])
    if isinstance(estimator, BaseSearchCV) and not hasattr(
        estimator, "best_estimator_"
    ):
        # An unfitted search has the methods of the estimator it will refit.
        return bool(estimator.refit) and has_predict_proba(estimator.estimator)
    if isinstance(estimator, StackingClassifier) and estimator.final_estimator is None:
        return True
    return hasattr(estimator, "predict_proba")


def is_frozen(estimator):
    """Whether ``estimator``, or a pipeline's last step, is a ``FrozenEstimator``:
    a model that fit does not train."""
    while isinstance(estimator, Pipeline) and estimator.steps:
        estimator = estimator.steps[-1][1]
    return isinstance(estimator, FrozenEstimator)


class HasFitAndProba(HasMethods):
    """The parameter constraint "an object implementing 'fit' and 'predict_proba'",
    where ``predict_proba`` is checked by :func:`has_predict_proba`."""

    def __init__(self):
        super().__init__(["fit", "predict_proba"])

    def is_satisfied_by(self, val):
        return hasattr(val, "fit") and has_predict_proba(val)
