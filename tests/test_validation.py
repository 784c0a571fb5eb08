"""A stack with its default final estimator is a classifier with probabilities."""

import pytest
from sklearn.datasets import load_wine
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    ProgressiveChainClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)
from skhpmkd._validation import has_predict_proba


def _stack(final_estimator=None):
    return StackingClassifier(
        [
            ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
            ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ],
        final_estimator=final_estimator,
    )


def _search(estimator, refit=True):
    return GridSearchCV(estimator, {"cv": [2, 3]}, cv=2, refit=refit)


@pytest.mark.parametrize(
    "estimator, expected",
    [
        (_stack(), True),  # a logistic regression once fitted
        (make_pipeline(StandardScaler(), _stack()), True),
        (_search(_stack()), True),
        (_search(make_pipeline(StandardScaler(), _stack())), True),
        (_search(_stack(LinearSVC())), False),
        (_search(_stack(), refit=False), False),  # nothing to predict with
        (_stack(LogisticRegression()), True),
        (_stack(LinearSVC()), False),
        (make_pipeline(StandardScaler(), _stack(LinearSVC())), False),
        (LinearSVC(), False),
        (DecisionTreeClassifier(), True),
    ],
)
def test_has_predict_proba(estimator, expected):
    assert has_predict_proba(estimator) is expected


@pytest.mark.parametrize("estimator", [_stack(), _search(_stack())])
def test_the_default_stack_shows_predict_proba_once_fitted(estimator):
    assert not hasattr(estimator, "predict_proba")
    fitted = estimator.fit(*load_wine(return_X_y=True))
    assert hasattr(fitted, "predict_proba")
    assert has_predict_proba(fitted)


_ROLES = {
    "distiller teacher": lambda: TemperatureScheduledDistiller(_stack()),
    "distiller student": lambda: TemperatureScheduledDistiller(student=_stack()),
    "fused teacher": lambda: AttentionMultiTeacherClassifier(
        [("stack", _stack()), ("tree", DecisionTreeClassifier(max_depth=3))]
    ),
    "pyramid teacher": lambda: PyramidTeacherClassifier(teacher=_stack()),
    "chain step": lambda: ProgressiveChainClassifier(
        [("stack", _stack()), ("tree", DecisionTreeClassifier(max_depth=3))]
    ),
    "hpmkd teacher": lambda: HPMKDClassifier(_stack(), students=["dt"], budget=2),
    "hpmkd teacher search": lambda: HPMKDClassifier(
        _search(_stack()), students=["dt"], budget=2
    ),
    "hpmkd student": lambda: HPMKDClassifier(students=[_stack()], budget=2),
}


@pytest.mark.parametrize("role", list(_ROLES))
def test_a_stack_with_its_default_final_estimator_is_accepted(role):
    X, y = load_wine(return_X_y=True)
    model = _ROLES[role]().set_params(random_state=0).fit(X, y)
    assert model.predict_proba(X).shape == (len(y), 3)
    assert model.score(X, y) > 0.8


def test_a_stack_without_probabilities_is_still_refused():
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ValueError, match="implementing 'fit' and 'predict_proba'"):
        TemperatureScheduledDistiller(_stack(LinearSVC())).fit(X, y)
