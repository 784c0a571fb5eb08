"""A table of bad inputs: each raises a clear ``ValueError`` or works; none is mutated.

Every public estimator goes through every row. A row changes the data, the
estimator's parameters, or both, and says what must happen: ``WORKS`` (fit
succeeds and the probabilities are sane) or a regular expression the
``ValueError`` message must match.
"""

import copy

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import get_tags

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    ProgressiveChainClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)
from tests._helpers import STUDENTS, seeded_instance
from tests.test_common import public_estimators

WORKS = "works"


def _data():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 12)
    rng.shuffle(y)
    X = rng.normal(size=(len(y), 4)) + y[:, None]
    return X, y


def _with(X, row, column, value):
    X = X.copy()
    X[row, column] = value
    return X


def _teacher_param(estimator):
    params = estimator.get_params(deep=False)
    for name in ("teacher", "teachers"):
        if name in params:
            return name, params[name]
    pytest.skip(f"{type(estimator).__name__} takes no teacher")


def _replace_teacher(estimator, bad, good):
    """Put ``bad`` in as the teacher, or as the first of several teachers."""
    name, current = _teacher_param(estimator)
    if name == "teacher" or not (current is None or isinstance(current, list)):
        return {name: bad}
    rest = current[1:] if current else [("good", good)]
    return {name: [("bad", bad), *rest]}


def _no_predict_proba(estimator, X, y):
    return _replace_teacher(estimator, LinearSVC(), DecisionTreeClassifier(max_depth=3))


def _other_classes(estimator, X, y):
    two_classes = y < 2
    partial = FrozenEstimator(LogisticRegression().fit(X[two_classes], y[two_classes]))
    full = FrozenEstimator(LogisticRegression().fit(X, y))
    name, _ = _teacher_param(estimator)
    if name == "teacher":
        return {name: partial}
    return {name: [("full", full), ("partial", partial)]}


def _extra_classes(estimator, X, y):
    """Frozen teachers that know a class ``y`` (which lacks class 2) does not."""
    full = FrozenEstimator(LogisticRegression().fit(X, y))
    name, _ = _teacher_param(estimator)
    if name == "teacher":
        return {name: full}
    return {name: [("full", full), ("also_full", full)]}


def _unfitted_frozen(estimator, X, y):
    unfitted = FrozenEstimator(LogisticRegression())
    name, _ = _teacher_param(estimator)
    if name == "teacher":
        return {name: unfitted}
    return {
        name: [
            ("full", FrozenEstimator(LogisticRegression().fit(X, y))),
            ("unfitted", unfitted),
        ]
    }


def _without_class_2(X, y):
    return X[y != 2], y[y != 2]


def _rare_class(X, y):
    """Class 2 keeps two rows: fewer than the folds of the teacher's cv."""
    keep = (y != 2) | (np.cumsum(y == 2) <= 2)
    return X[keep], y[keep]


def _huge_temperature(estimator, X, y):
    params = estimator.get_params(deep=False)
    if "temperature" in params:
        return {"temperature": 1e6}
    if "temperatures" in params:
        return {"temperatures": [1e6]}
    pytest.skip(f"{type(estimator).__name__} takes no temperature")


def _nan_expectation(estimator):
    return WORKS if get_tags(estimator).input_tags.allow_nan else "NaN"


ONE_CLASS = "at least 2 classes, but y holds only one class"

# name: (make X and y from clean data, make parameters or None, expectation)
CASES = {
    "nan_in_X": (lambda X, y: (_with(X, 0, 0, np.nan), y), None, _nan_expectation),
    "inf_in_X": (lambda X, y: (_with(X, 0, 0, np.inf), y), None, "infinity|inf"),
    "empty_X": (lambda X, y: (X[:0], y[:0]), None, "0 sample"),
    "one_row": (lambda X, y: (X[:1], y[:1]), None, ONE_CLASS),
    "one_class": (lambda X, y: (X, np.zeros_like(y)), None, ONE_CLASS),
    "one_feature": (lambda X, y: (X[:, :1], y), None, WORKS),
    "y_with_nan": (
        lambda X, y: (X, np.where(np.arange(len(y)) == 0, np.nan, y.astype(float))),
        None,
        "NaN",
    ),
    "mismatched_lengths": (
        lambda X, y: (X[:-1], y),
        None,
        "inconsistent numbers of samples",
    ),
    "one_dimensional_X": (lambda X, y: (X[:, 0], y), None, "2D array"),
    "teacher_without_predict_proba": (
        lambda X, y: (X, y),
        _no_predict_proba,
        "predict_proba",
    ),
    "teachers_with_different_classes": (
        lambda X, y: (X, y),
        _other_classes,
        r"fitted on classes \[0, 1\], but y has classes \[0, 1, 2\]",
    ),
    "teacher_with_extra_classes": (
        _without_class_2,
        _extra_classes,
        r"fitted on classes \[0, 1, 2\], but y has classes \[0, 1\]",
    ),
    "unfitted_frozen_teacher": (
        lambda X, y: (X, y),
        _unfitted_frozen,
        r"a FrozenEstimator of a LogisticRegression\) is not fitted",
    ),
    "rare_class": (_rare_class, None, WORKS),
    "non_numeric_X": (
        lambda X, y: (X.astype(str).astype(object) + "a", y),
        None,
        "float",
    ),
    "huge_temperature": (lambda X, y: (X, y), _huge_temperature, WORKS),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(
    "estimator_class", public_estimators(), ids=lambda cls: cls.__name__
)
def test_bad_input(estimator_class, case):
    make_data, make_params, expectation = CASES[case]
    estimator = seeded_instance(estimator_class)
    X, y = make_data(*_data())
    if make_params is not None:
        estimator.set_params(**make_params(estimator, *_data()))
    if callable(expectation):
        expectation = expectation(estimator)

    X_before, y_before = copy.deepcopy(X), copy.deepcopy(y)
    params_before = joblib.hash(estimator.get_params(deep=False))

    if expectation == WORKS:
        estimator.fit(X, y)
        proba = estimator.predict_proba(X)
        assert np.all(np.isfinite(proba))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
        assert estimator.predict(X).shape == (len(X),)
    else:
        with pytest.raises(ValueError, match=expectation):
            estimator.fit(X, y)

    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    assert joblib.hash(estimator.get_params(deep=False)) == params_before


@pytest.mark.parametrize("family", list(STUDENTS))
def test_every_student_family_learns_from_a_few_rows(family):
    """Fewer rows than LightGBM's default leaf minimum still give a student.

    The family's own classifier fits such data (to a constant model if it
    must); the distilled student has to do at least as well as failing
    clearly.
    """
    X, y = _data()
    student = STUDENTS[family]()
    student.fit(X, y)
    distiller = TemperatureScheduledDistiller(
        DecisionTreeClassifier(max_depth=3), STUDENTS[family](), cv=3, random_state=0
    ).fit(X, y)
    proba = distiller.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def _scaled_logistic():
    """A logistic regression without an imputer: it refuses NaN."""
    return make_pipeline(StandardScaler(), LogisticRegression())


_TREE = DecisionTreeClassifier(max_depth=3, random_state=0)

# name: (an estimator one of whose models refuses NaN, how the error names it)
_NAN_REFUSERS = {
    "hpmkd teacher": (
        lambda: HPMKDClassifier(LogisticRegression(), students=["dt"], budget=2),
        r"LogisticRegression \(the teacher\), which does not",
    ),
    "hpmkd student": (
        lambda: HPMKDClassifier(_TREE, students=["dt", _scaled_logistic()], budget=2),
        r"Pipeline \(the student 'Pipeline'\), which does not",
    ),
    "hpmkd fused teacher": (
        lambda: HPMKDClassifier(
            [("lr", LogisticRegression()), ("tree", _TREE)], students=["dt"], budget=2
        ),
        r"LogisticRegression \(the teacher 'lr' of the teacher "
        r"AttentionMultiTeacherClassifier\)",
    ),
    "distiller teacher and student": (
        lambda: TemperatureScheduledDistiller(LogisticRegression(), _scaled_logistic()),
        r"LogisticRegression \(the teacher\) and Pipeline \(the student\), which "
        "do not",
    ),
    "fused teacher": (
        lambda: AttentionMultiTeacherClassifier(
            [("tree", _TREE), ("lr", _scaled_logistic())], cv=3
        ),
        r"gives X to Pipeline \(the teacher 'lr'\), which",
    ),
    "chain step": (
        lambda: ProgressiveChainClassifier(
            [("tree", _TREE), ("lr", LogisticRegression())]
        ),
        r"gives X to LogisticRegression \(the step 'lr'\), which",
    ),
    "pyramid specialist": (
        lambda: PyramidTeacherClassifier(_TREE, specialist=LogisticRegression()),
        r"gives X to LogisticRegression \(the specialist\), which",
    ),
}


@pytest.mark.parametrize("case", list(_NAN_REFUSERS))
def test_nan_error_names_the_model_that_refuses_it(case):
    make_estimator, named = _NAN_REFUSERS[case]
    X, y = _data()
    with_nan = _with(X, 0, 0, np.nan)
    with pytest.raises(ValueError, match=f"^Input X contains NaN. .*{named}"):
        make_estimator().fit(with_nan, y)
    # Fitted without NaN, the same models still refuse it at predict time,
    # also when set_params has since put in models that accept it.
    fitted = make_estimator().fit(X, y)
    fitted.set_params(**_replace_teacher(fitted, _TREE, _TREE))
    with pytest.raises(ValueError, match=named):
        fitted.predict_proba(with_nan)


@pytest.mark.parametrize(
    "make",
    [
        lambda: TemperatureScheduledDistiller(
            DecisionTreeClassifier(max_depth=2), LogisticRegression()
        ),
        lambda: HPMKDClassifier(
            DecisionTreeClassifier(max_depth=2),
            students=[LogisticRegression()],
            budget=2,
        ),
        lambda: ProgressiveChainClassifier(
            [("lr", LogisticRegression())], teacher=DecisionTreeClassifier()
        ),
    ],
    ids=["distiller", "hpmkd", "chain"],
)
def test_a_column_of_text_categories_gets_the_conversion_error(make):
    # Validation lets a pandas Categorical of strings through as an object
    # array; NumPy's isnan refused it with a TypeError about ufuncs.
    pd = pytest.importorskip("pandas")
    X, y = make_classification(100, 3, n_informative=3, n_redundant=0, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["colour"] = pd.Categorical(np.where(y == 1, "red", "blue"))
    with pytest.raises(ValueError, match="could not convert string to float"):
        make().fit(frame, y)


@pytest.mark.parametrize(
    "make",
    [
        lambda cv: TemperatureScheduledDistiller(
            DecisionTreeClassifier(max_depth=3), DecisionTreeClassifier(), cv=cv
        ),
        lambda cv: HPMKDClassifier(
            DecisionTreeClassifier(max_depth=3), students=["dt"], budget=2, cv=cv
        ),
    ],
    ids=["distiller", "hpmkd"],
)
def test_a_spent_generator_of_splits_is_named(make):
    # A generator gives its splits to the first fit only; the second fit was
    # told that rows were not in exactly one test fold.
    from sklearn.model_selection import StratifiedKFold

    X, y = _data()
    model = make(StratifiedKFold(3).split(X, y))
    model.fit(X, y)
    with pytest.raises(ValueError, match=r"gave no splits\. A generator"):
        model.fit(X, y)
