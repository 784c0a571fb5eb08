"""The wrappers a distiller returns as its student."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skhpmkd._students import MarginClassifier, SoftTargetClassifier, normalize_proba


@parametrize_with_checks(
    [SoftTargetClassifier(DecisionTreeRegressor(max_depth=5, random_state=0))]
)
def test_soft_target_classifier_is_a_classifier(estimator, check):
    check(estimator)


def test_hard_labels_give_the_gini_tree():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    y = np.array(["cat", "dog", "eel"])[rng.randint(3, size=200)]
    soft = SoftTargetClassifier(DecisionTreeRegressor(max_depth=3, random_state=0))
    hard = DecisionTreeClassifier(max_depth=3, random_state=0)
    assert_allclose(soft.fit(X, y).predict_proba(X), hard.fit(X, y).predict_proba(X))
    assert_array_equal(soft.predict(X), hard.predict(X))


def test_forest_leaves_can_be_renormalised():
    values = np.array([[0.2, -0.1, 0.4], [0.0, 0.0, 0.0]])
    assert_allclose(normalize_proba(values), [[1 / 3, 0, 2 / 3], [1 / 3] * 3])
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    Q = rng.dirichlet(np.ones(3), size=100)
    forest = SoftTargetClassifier(RandomForestRegressor(n_estimators=5, random_state=0))
    proba = forest.fit_soft(X, Q, np.array([1, 2, 3])).predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)


def test_one_class_is_rejected():
    soft = SoftTargetClassifier(DecisionTreeRegressor())
    with pytest.raises(ValueError, match="only one class: 'a'"):
        soft.fit([[0.0], [1.0]], ["a", "a"])


def _fitted_lightgbm(n_rows):
    """Rows, labels and a small LightGBM classifier fitted on them."""
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_rows, 3))
    y = (X[:, 0] > 0).astype(int)
    booster = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1, n_jobs=1).fit(X, y)
    return X, y, booster


def test_margin_classifier_adds_the_prior_back():
    X, _, booster = _fitted_lightgbm(300)
    offset = np.array([0.0, 0.7])
    wrapped = MarginClassifier(booster, np.array(["no", "yes"]), offset).fit()
    raw = booster.predict(X, raw_score=True)
    expected = 1 / (1 + np.exp(-(raw + 0.7)))
    assert_allclose(wrapped.predict_proba(X)[:, 1], expected)
    assert set(wrapped.predict(X)) <= {"no", "yes"}
    assert wrapped.n_features_in_ == 3


def test_a_clone_of_the_margin_classifier_says_why_it_cannot_be_fitted():
    X, y, booster = _fitted_lightgbm(100)
    wrapped = MarginClassifier(booster, [0, 1], [0.0, 0.0]).fit()
    with pytest.raises(NotFittedError, match="cross-validate the distiller"):
        clone(wrapped).fit(X, y)


def test_margin_classifier_keeps_the_column_names_lightgbm_rewrites():
    # LightGBM reports "a b" as "a_b"; the deployed student must accept the
    # DataFrame it was fitted on, as the booster itself does.
    lightgbm = pytest.importorskip("lightgbm")
    pd = pytest.importorskip("pandas")
    from skhpmkd import TemperatureScheduledDistiller

    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a b", "c", "d e"])
    y = (X["a b"] > 0).to_numpy().astype(int)
    booster = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1, n_jobs=1)
    wrapped = MarginClassifier(booster.fit(X, y), [0, 1], [0.0, 0.0]).fit(X)
    assert list(wrapped.feature_names_in_) == ["a b", "c", "d e"]
    assert_allclose(wrapped.predict_proba(X), booster.predict_proba(X))
    with pytest.raises(ValueError, match="X has 2 features, but the booster"):
        MarginClassifier(booster, [0, 1], [0.0, 0.0]).fit(X[["c", "d e"]])

    distiller = TemperatureScheduledDistiller(
        student=lightgbm.LGBMClassifier(n_estimators=5, verbose=-1, n_jobs=1),
        random_state=0,
    ).fit(X, y)
    assert list(distiller.student_.feature_names_in_) == ["a b", "c", "d e"]
    assert_allclose(distiller.student_.predict_proba(X), distiller.predict_proba(X))
    with pytest.raises(ValueError, match="feature names"):
        distiller.student_.predict(X[["c", "a b", "d e"]])
