"""Helpers shared by the persistence, property and bad-input tests."""

import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from tests._instances import light_instance


def seeded_instance(estimator_class, random_state=0):
    """The light test instance of ``estimator_class``, seeded when it takes a seed."""
    estimator = light_instance(estimator_class)
    if "random_state" in estimator.get_params(deep=False):
        estimator.set_params(random_state=random_state)
    return estimator


def xgboost_student():
    xgboost = pytest.importorskip("xgboost")
    return xgboost.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1)


def lightgbm_student():
    lightgbm = pytest.importorskip("lightgbm")
    return lightgbm.LGBMClassifier(n_estimators=5, num_leaves=4, n_jobs=1, verbose=-1)


# A small student of every family fit_soft_student handles differently.
STUDENTS = {
    "tree": lambda: DecisionTreeClassifier(max_depth=3),
    "forest": lambda: RandomForestClassifier(n_estimators=5, max_depth=3),
    "logistic": lambda: LogisticRegression(),
    "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(max_iter=5),
    "xgboost": xgboost_student,
    "lightgbm": lightgbm_student,
    "perceptron": lambda: MLPClassifier(
        hidden_layer_sizes=(4,), solver="lbfgs", max_iter=2000
    ),
}
