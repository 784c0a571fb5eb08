"""Helpers shared by the persistence, property, bad-input and weight tests."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import clone, config_context
from sklearn.datasets import load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
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


def scaled_wine():
    """The wine data set (178 rows, 3 classes), standardised."""
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# Weights for the 178 wine rows that scikit-learn refuses, with its messages.
BAD_WEIGHTS = [
    (-np.ones(178), "Negative values"),
    (np.zeros(178), "at least one non-zero"),
    (np.ones(5), r"sample_weight.shape == \(5,\)"),
]


def weighted_out_of_fold_proba(model, X, y, sample_weight, cv):
    """Each row's probabilities from a clone of ``model`` fitted, with their
    weights, on the rows of the other folds of ``cv``."""
    proba = np.zeros((len(y), len(np.unique(y))))
    for train, test in cv.split(X, y):
        fold = clone(model).fit(X[train], y[train], sample_weight=sample_weight[train])
        proba[test] = fold.predict_proba(X[test])
    return proba


def assert_routed_cross_validation_weighs(estimator, X, y, sample_weight):
    """Under metadata routing, ``cross_val_score`` with weights gives each fold
    the score of the weighted fit, weighted."""
    with config_context(enable_metadata_routing=True):
        routed = clone(estimator).set_fit_request(sample_weight=True)
        routed.set_score_request(sample_weight=True)
        params = {"sample_weight": sample_weight}
        scores = cross_val_score(routed, X, y, cv=3, params=params)
        expected = [
            clone(estimator)
            .fit(X[train], y[train], sample_weight=sample_weight[train])
            .score(X[test], y[test], sample_weight=sample_weight[test])
            for train, test in StratifiedKFold(3).split(X, y)
        ]
    assert_allclose(scores, expected)
