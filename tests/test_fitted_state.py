"""A fitted model depends only on its fitted state, not on later set_params.

scikit-learn's convention: changing a parameter without refitting must not
change ``predict``, ``predict_proba``, ``transform`` or any other method of a
fitted estimator.
"""

import copy
import functools
import itertools

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    ProgressiveChainClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)

WEIGHTINGS = ["attention", "uniform", "camkd", "entropy"]


@functools.cache
def _task(with_nan=False):
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    if with_nan:
        X[::7, 1] = np.nan
    return X, y


def _outputs(model, X, y):
    """Every prediction a fitted model gives."""
    outputs = {
        "predict_proba": model.predict_proba(X),
        "predict": model.predict(X),
        "transform": model.transform(X),
        "score": model.score(X, y),
    }
    if isinstance(model, AttentionMultiTeacherClassifier):
        outputs["teacher_proba"] = model.teacher_proba(X)
        outputs["teacher_weights"] = model.teacher_weights(X)
    return outputs


def _assert_unchanged_by(fitted, params, X, y):
    """``set_params(**params)`` without refit leaves every prediction as is."""
    before = _outputs(fitted, X, y)
    changed = copy.deepcopy(fitted).set_params(**params)
    after = _outputs(changed, X, y)
    for method, expected in before.items():
        assert_array_equal(after[method], expected, err_msg=method)


@functools.cache
def _fitted_multi_teacher(weighting, with_nan=False):
    teachers = [
        ("tree", DecisionTreeClassifier(max_depth=3)),
        ("boosting", HistGradientBoostingClassifier(max_iter=10)),
    ]
    if not with_nan:
        teachers.append(("logistic", LogisticRegression()))
    model = AttentionMultiTeacherClassifier(
        teachers, weighting=weighting, cv=3, random_state=0
    )
    return model.fit(*_task(with_nan))


@pytest.mark.parametrize(
    "fitted_weighting, new_weighting",
    list(itertools.permutations(WEIGHTINGS, 2)),
)
def test_multi_teacher_keeps_the_weighting_it_was_fitted_with(
    fitted_weighting, new_weighting
):
    fitted = _fitted_multi_teacher(fitted_weighting)
    _assert_unchanged_by(fitted, {"weighting": new_weighting}, *_task())


@pytest.mark.parametrize(
    "params",
    [
        {"attention_l2": 10.0},
        {"cv": 2},
        {"memory": "unused_cache_dir"},
        {"random_state": 1},
        {"n_jobs": 2},
        {"tree": "drop"},
        {"tree": LogisticRegression(C=0.01)},
        {"tree__max_depth": 1},
        {"teachers": [("other", LogisticRegression())]},
        {"teachers": None},
    ],
    ids=str,
)
def test_multi_teacher_ignores_other_params_set_after_fit(params):
    fitted = _fitted_multi_teacher("attention")
    _assert_unchanged_by(fitted, params, *_task())


@pytest.mark.parametrize(
    "params",
    [
        {"tree": LogisticRegression()},
        {"teachers": [("logistic", LogisticRegression())]},
    ],
    ids=str,
)
def test_multi_teacher_accepts_nan_its_fitted_teachers_accept(params):
    # Whether X may hold NaN at predict time is the fitted teachers' call.
    fitted = _fitted_multi_teacher("attention", with_nan=True)
    _assert_unchanged_by(fitted, params, *_task(with_nan=True))


def test_multi_teacher_refuses_nan_its_fitted_teachers_refuse():
    fitted = copy.deepcopy(_fitted_multi_teacher("attention"))
    fitted.set_params(logistic=HistGradientBoostingClassifier())
    X, _ = _task(with_nan=True)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict_proba(X)


@functools.cache
def _fitted_distiller(standardize_logits=False, with_nan=False):
    if with_nan:
        teacher = HistGradientBoostingClassifier(max_iter=10)
        student = HistGradientBoostingClassifier(max_iter=5)
    else:
        teacher = LogisticRegression()
        student = DecisionTreeClassifier(max_depth=3)
    model = TemperatureScheduledDistiller(
        teacher,
        student,
        temperature=3.0,
        standardize_logits=standardize_logits,
        cv=3,
        random_state=0,
    )
    return model.fit(*_task(with_nan))


@pytest.mark.parametrize("standardize_logits", [False, True])
def test_distiller_keeps_the_logit_scaling_it_was_fitted_with(standardize_logits):
    fitted = _fitted_distiller(standardize_logits)
    params = {"standardize_logits": not standardize_logits}
    _assert_unchanged_by(fitted, params, *_task())


@pytest.mark.parametrize(
    "params",
    [
        {"teacher": DecisionTreeClassifier()},
        {"student": LogisticRegression()},
        {"temperature": 1.0},
        {"alpha": 0.1},
        {"schedule": "cosine"},
        {"final_temperature": 5.0},
        {"cv": 2},
        {"augment": 1.0},
        {"augment_method": "munge"},
        {"random_state": 1},
        {"n_jobs": 2},
    ],
    ids=str,
)
def test_distiller_ignores_other_params_set_after_fit(params):
    _assert_unchanged_by(_fitted_distiller(), params, *_task())


@pytest.mark.parametrize(
    "params",
    [
        {"teacher": LogisticRegression()},
        {"student": LogisticRegression()},
        {"teacher": LogisticRegression(), "student": LogisticRegression()},
    ],
    ids=str,
)
def test_distiller_accepts_nan_its_fitted_models_accept(params):
    fitted = _fitted_distiller(with_nan=True)
    _assert_unchanged_by(fitted, params, *_task(with_nan=True))


def test_distiller_refuses_nan_its_fitted_models_refuse():
    fitted = copy.deepcopy(_fitted_distiller())
    fitted.set_params(
        teacher=HistGradientBoostingClassifier(),
        student=HistGradientBoostingClassifier(),
    )
    X, _ = _task(with_nan=True)
    for method in (fitted.predict_proba, fitted.transform):
        with pytest.raises(ValueError, match="Input X contains NaN"):
            method(X)


def _nan_models():
    """A chain, a pyramid and HPMKDClassifier of models that take NaN."""
    hgb = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    return {
        "chain": (
            ProgressiveChainClassifier([("student", hgb)], teacher=hgb),
            {"teacher": LogisticRegression(), "student": LogisticRegression()},
        ),
        "pyramid": (
            PyramidTeacherClassifier(teacher=hgb, specialist=hgb),
            {"teacher": LogisticRegression(), "specialist": LogisticRegression()},
        ),
        "hpmkd": (
            HPMKDClassifier(hgb, students=["dt"], budget=2, cv=3),
            {"teachers": LogisticRegression(), "students": [LogisticRegression()]},
        ),
    }


@pytest.mark.parametrize("name", ["chain", "pyramid", "hpmkd"])
def test_nan_at_predict_time_is_the_fitted_models_call(name):
    model, params = _nan_models()[name]
    X, y = _task(with_nan=True)
    fitted = model.set_params(random_state=0).fit(X, y)
    _assert_unchanged_by(fitted, params, X, y)
