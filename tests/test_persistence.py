"""Fitted estimators and their deployable ``student_`` survive pickle, joblib, skops.

The skops part also keeps ``doc/persistence.rst`` honest: the types the docs
tell users to trust must be exactly the types the files need.
"""

import io
import pickle
import re
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import skhpmkd._base
from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    ProgressiveChainClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)
from skhpmkd._base import SkhpmkdVersionWarning
from tests._helpers import (
    STUDENTS,
    lightgbm_student,
    seeded_instance,
    xgboost_student,
)
from tests.test_common import distillers, public_estimators

PERSISTENCE_DOC = Path(__file__).resolve().parents[1] / "doc" / "persistence.rst"
METHODS = ["pickle", "joblib", "skops"]
DISTILLERS = distillers()


def _data():
    X, y = make_classification(
        n_samples=90,
        n_features=5,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X, y


def _skops_round_trip(obj, tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(obj, path)
    trusted = sio.get_untrusted_types(file=path)
    return sio.load(path, trusted=trusted)


def _round_trip(obj, method, tmp_path):
    if method == "pickle":
        return pickle.loads(pickle.dumps(obj))
    if method == "joblib":
        buffer = io.BytesIO()
        joblib.dump(obj, buffer)
        buffer.seek(0)
        return joblib.load(buffer)
    return _skops_round_trip(obj, tmp_path)


def _assert_same_outputs(original, loaded, X):
    assert type(loaded) is type(original)
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    if hasattr(original, "predict_proba"):
        np.testing.assert_array_equal(
            loaded.predict_proba(X), original.predict_proba(X)
        )
    if hasattr(original, "transform"):
        np.testing.assert_array_equal(loaded.transform(X), original.transform(X))


_FITTED = {}


def _name(estimator_class):
    return estimator_class.__name__


def _fitted(estimator_class):
    """Each public estimator fitted once per session on the same small data."""
    if estimator_class not in _FITTED:
        X, y = _data()
        _FITTED[estimator_class] = seeded_instance(estimator_class).fit(X, y)
    return _FITTED[estimator_class]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("estimator_class", public_estimators(), ids=_name)
def test_fitted_estimator_round_trips(estimator_class, method, tmp_path):
    estimator = _fitted(estimator_class)
    X, _ = _data()
    _assert_same_outputs(estimator, _round_trip(estimator, method, tmp_path), X)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("estimator_class", DISTILLERS, ids=_name)
def test_deployed_student_round_trips(estimator_class, method, tmp_path):
    estimator = _fitted(estimator_class)
    X, _ = _data()
    student = estimator.student_
    _assert_same_outputs(student, _round_trip(student, method, tmp_path), X)


def _distilled(student):
    X, y = _data()
    return TemperatureScheduledDistiller(
        RandomForestClassifier(n_estimators=10, max_depth=4),
        student,
        temperature=2.0,
        cv=3,
        random_state=0,
    ).fit(X, y)


def _searched(family):
    return HPMKDClassifier(
        RandomForestClassifier(n_estimators=10),
        students=[family],
        budget=2,
        random_state=0,
    ).fit(*_data())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("family", list(STUDENTS))
def test_every_student_family_round_trips(family, method, tmp_path):
    distiller = _distilled(STUDENTS[family]())
    X, _ = _data()
    student = distiller.student_
    _assert_same_outputs(student, _round_trip(student, method, tmp_path), X)
    _assert_same_outputs(distiller, _round_trip(distiller, method, tmp_path), X)


def test_skops_refuses_untrusted_types(tmp_path):
    sio = pytest.importorskip("skops.io")
    from skops.io.exceptions import UntrustedTypesFoundException

    path = tmp_path / "student.skops"
    sio.dump(_distilled(DecisionTreeClassifier(max_depth=3)).student_, path)
    with pytest.raises(UntrustedTypesFoundException, match="SoftTargetClassifier"):
        sio.load(path)


# What each row of the table in doc/persistence.rst saves, keyed by the
# row's first cell.
DOCUMENTED_OBJECTS = {
    "TemperatureScheduledDistiller(RandomForestClassifier(), "
    "DecisionTreeClassifier())": lambda: _distilled(DecisionTreeClassifier()),
    'AttentionMultiTeacherClassifier([("tree", DecisionTreeClassifier()), '
    '("logistic", LogisticRegression())])': lambda: AttentionMultiTeacherClassifier(
        [("tree", DecisionTreeClassifier()), ("logistic", LogisticRegression())],
        cv=3,
        random_state=0,
    ).fit(*_data()),
    "PyramidTeacherClassifier(DecisionTreeClassifier())": lambda: (
        PyramidTeacherClassifier(DecisionTreeClassifier(), cv=3, random_state=0).fit(
            *_data()
        )
    ),
    'ProgressiveChainClassifier([("assistant", DecisionTreeClassifier(max_depth=6)), '
    '("student", DecisionTreeClassifier(max_depth=2))], '
    "teacher=RandomForestClassifier())": lambda: ProgressiveChainClassifier(
        [
            ("assistant", DecisionTreeClassifier(max_depth=6)),
            ("student", DecisionTreeClassifier(max_depth=2)),
        ],
        teacher=RandomForestClassifier(n_estimators=10),
        random_state=0,
    ).fit(*_data()),
    'HPMKDClassifier(RandomForestClassifier(), students=["dt"])': lambda: (
        HPMKDClassifier(
            RandomForestClassifier(n_estimators=10),
            students=["dt"],
            budget=2,
            random_state=0,
        ).fit(*_data())
    ),
    'HPMKDClassifier(RandomForestClassifier(), students=["dt"], use_chain=True)': (
        lambda: HPMKDClassifier(
            RandomForestClassifier(n_estimators=10),
            students=["dt"],
            budget=2,
            use_chain=True,
            random_state=0,
        ).fit(*_data())
    ),
    'HPMKDClassifier([("tree", DecisionTreeClassifier()), ("logistic", '
    'LogisticRegression())], students=["dt"])': lambda: HPMKDClassifier(
        [("tree", DecisionTreeClassifier()), ("logistic", LogisticRegression())],
        students=["dt"],
        budget=2,
        random_state=0,
    ).fit(*_data()),
    "student_ of a DecisionTreeClassifier or ExtraTreeClassifier": lambda: (
        _distilled(DecisionTreeClassifier()).student_
    ),
    "student_ of a RandomForestClassifier or ExtraTreesClassifier": lambda: (
        _distilled(RandomForestClassifier(n_estimators=5)).student_
    ),
    "student_ of a GradientBoostingClassifier": lambda: (
        _distilled(GradientBoostingClassifier(n_estimators=5)).student_
    ),
    "student_ of a LogisticRegression": lambda: (
        _distilled(LogisticRegression()).student_
    ),
    "student_ of a HistGradientBoostingClassifier": lambda: (
        _distilled(HistGradientBoostingClassifier(max_iter=5)).student_
    ),
    "student_ of an XGBClassifier": lambda: _distilled(xgboost_student()).student_,
    "student_ of an LGBMClassifier": lambda: _distilled(lightgbm_student()).student_,
    'student_ of HPMKDClassifier(students=["lr"])': lambda: _searched("lr").student_,
    'student_ of HPMKDClassifier(students=["mlp"])': lambda: _searched("mlp").student_,
}


def _documented_tables():
    """The trusted-types table and the list of skhpmkd types from the docs."""
    if not PERSISTENCE_DOC.exists():
        pytest.skip("doc/persistence.rst is not part of this installation")
    text = PERSISTENCE_DOC.read_text(encoding="utf-8")
    table = text.split(".. trusted-types-table-start")[1].split(
        ".. trusted-types-table-end"
    )[0]
    rows = {}
    for row in re.split(r"^\s*\* - ", table, flags=re.MULTILINE)[2:]:
        first, _, second = row.partition("\n     - ")
        rows[" ".join(first.replace("``", "").split())] = set(
            re.findall(r"``([^`]+)``", second)
        )
    own = text.split(".. skhpmkd-types-start")[1].split(".. skhpmkd-types-end")[0]
    return rows, set(re.findall(r"``(skhpmkd\.[^`]+)``", own))


def _untrusted_types(obj, tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "object.skops"
    sio.dump(obj, path)
    return set(sio.get_untrusted_types(file=path))


def test_documented_trusted_types_are_exact(tmp_path):
    rows, _ = _documented_tables()
    assert set(rows) == set(DOCUMENTED_OBJECTS)
    for name, make in DOCUMENTED_OBJECTS.items():
        assert _untrusted_types(make(), tmp_path) == rows[name], name


def test_documented_skhpmkd_types_are_exact(tmp_path):
    """The docs list every skhpmkd type a saved object can hold, and no other."""
    rows, documented = _documented_tables()
    found = set().union(*rows.values())
    for estimator_class in public_estimators():
        estimator = _fitted(estimator_class)
        found |= _untrusted_types(estimator, tmp_path)
    assert {name for name in found if name.startswith("skhpmkd.")} == documented


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("family", ["tree", "logistic", "xgboost", "lightgbm"])
def test_student_of_a_dataframe_fit_keeps_its_column_names(family, method, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=[f"col_{j}" for j in range(X.shape[1])])
    student = (
        TemperatureScheduledDistiller(
            RandomForestClassifier(n_estimators=10, max_depth=4),
            STUDENTS[family](),
            cv=3,
            random_state=0,
        )
        .fit(frame, y)
        .student_
    )
    loaded = _round_trip(student, method, tmp_path)
    np.testing.assert_array_equal(loaded.feature_names_in_, frame.columns)
    _assert_same_outputs(student, loaded, frame)


@pytest.mark.parametrize("method", METHODS)
def test_loading_under_another_skhpmkd_version_warns(method, tmp_path, monkeypatch):
    # scikit-learn records its version only for its own classes: skhpmkd's
    # estimators and students record theirs, and loading them warns as
    # scikit-learn does.
    estimator = _fitted(TemperatureScheduledDistiller)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        _round_trip(estimator, method, tmp_path)  # the same version: silent
    if method == "skops":
        sio = pytest.importorskip("skops.io")
        saved = sio.dumps(estimator)
        trusted = sio.get_untrusted_types(data=saved)
    else:
        saved = pickle.dumps(estimator)
    monkeypatch.setattr(skhpmkd._base, "__version__", "99.0")
    with pytest.warns(SkhpmkdVersionWarning) as record:
        if method == "skops":
            sio.loads(saved, trusted=trusted)
        else:
            pickle.loads(saved)  # joblib loads through pickle
    loaded = {str(w.message).split()[3] for w in record}
    assert {"TemperatureScheduledDistiller", "SoftTargetClassifier"} <= loaded
    assert all(
        "saved with skhpmkd 0.1.0 when using skhpmkd 99.0" in str(w.message)
        for w in record
    )
    # scikit-learn's fields keep scikit-learn's versions, as its persistence
    # guide tells users to read them; skhpmkd's have their own.
    for w in record:
        assert w.message.original_sklearn_version == sklearn.__version__
        assert w.message.current_sklearn_version == sklearn.__version__
        assert w.message.original_skhpmkd_version == "0.1.0"
        assert w.message.current_skhpmkd_version == "99.0"


def test_state_saved_before_versions_were_recorded_warns():
    estimator = _fitted(TemperatureScheduledDistiller)
    state = estimator.__getstate__()
    del state["_skhpmkd_version"]
    empty = TemperatureScheduledDistiller.__new__(TemperatureScheduledDistiller)
    with pytest.warns(SkhpmkdVersionWarning, match="saved with an earlier skhpmkd"):
        empty.__setstate__(state)
