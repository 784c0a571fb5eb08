"""Properties every public estimator must have, on data drawn by hypothesis.

Examples are few and small so that the module stays fast; hypothesis is
derandomised so that CI sees the same examples on every run.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.naive_bayes import GaussianNB

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    ProgressiveChainClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)
from tests._helpers import STUDENTS, seeded_instance
from tests.test_common import distillers, public_estimators

ESTIMATORS = public_estimators()
IDS = [cls.__name__ for cls in ESTIMATORS]
FAST = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def datasets(draw):
    """Small, learnable classification data: 2 or 3 classes of 5 to 16 rows each."""
    n_classes = draw(st.integers(2, 3))
    counts = draw(st.lists(st.integers(5, 16), min_size=n_classes, max_size=n_classes))
    n_features = draw(st.integers(1, 4))
    separation = draw(st.floats(0.0, 2.0))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    y = np.repeat(np.arange(n_classes), counts)
    rng.shuffle(y)
    X = rng.normal(size=(len(y), n_features)) + separation * y[:, None]
    return X, y


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=IDS)
@FAST
@given(data=datasets())
def test_predict_proba_rows_are_distributions(estimator_class, data):
    X, y = data
    estimator = seeded_instance(estimator_class).fit(X, y)
    proba = estimator.predict_proba(X)
    assert proba.shape == (len(X), len(np.unique(y)))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(estimator.classes_, np.unique(y))
    assert set(estimator.predict(X)) <= set(estimator.classes_)


labels = st.one_of(
    st.lists(
        st.text(alphabet="abcxyz_", min_size=1, max_size=4),
        min_size=3,
        max_size=3,
        unique=True,
    ),
    st.lists(st.integers(-1000, 1000), min_size=3, max_size=3, unique=True),
)


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=IDS)
@settings(FAST, max_examples=6)
@given(data=datasets(), new_labels=labels)
def test_relabelling_classes_relabels_predictions(estimator_class, data, new_labels):
    """Strings or non-contiguous ints in the same order give the same model."""
    X, y = data
    new_labels = np.sort(np.asarray(new_labels))
    relabelled = new_labels[y]
    on_codes = seeded_instance(estimator_class).fit(X, y)
    on_labels = seeded_instance(estimator_class).fit(X, relabelled)
    np.testing.assert_array_equal(on_labels.classes_, new_labels[: len(np.unique(y))])
    np.testing.assert_array_equal(on_labels.predict(X), new_labels[on_codes.predict(X)])
    np.testing.assert_allclose(
        on_labels.predict_proba(X), on_codes.predict_proba(X), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=IDS)
@settings(FAST, max_examples=4)
@given(data=datasets(), seed=st.integers(0, 2**31 - 1))
def test_same_random_state_same_model(estimator_class, data, seed):
    X, y = data
    estimator = seeded_instance(estimator_class, random_state=seed)
    first = clone(estimator).fit(X, y).predict_proba(X)
    second = clone(estimator).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def _fixed_data(n_classes=3, n_per_class=12, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    rng.shuffle(y)
    return rng.normal(size=(len(y), n_features)) + y[:, None], y


@pytest.mark.parametrize(
    "estimator_class",
    [cls for cls in ESTIMATORS if "n_jobs" in cls().get_params(deep=False)],
    ids=lambda cls: cls.__name__,
)
def test_n_jobs_does_not_change_the_model(estimator_class):
    X, y = _fixed_data()
    serial = seeded_instance(estimator_class).set_params(n_jobs=1).fit(X, y)
    parallel = seeded_instance(estimator_class).set_params(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.predict_proba(X), parallel.predict_proba(X))
    if hasattr(serial, "transform"):
        np.testing.assert_array_equal(serial.transform(X), parallel.transform(X))


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=IDS)
@settings(FAST, max_examples=3)
@given(data=datasets())
def test_dataframe_input_keeps_feature_names(estimator_class, data):
    pd = pytest.importorskip("pandas")
    X, y = data
    columns = [f"feature {j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns, index=np.arange(len(X)) * 3 + 7)
    on_frame = seeded_instance(estimator_class)
    on_frame.fit(frame, pd.Series(y, index=frame.index))
    on_array = seeded_instance(estimator_class).fit(X, y)
    np.testing.assert_array_equal(on_frame.feature_names_in_, columns)
    assert not hasattr(on_array, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        from_frame = on_frame.predict_proba(frame)
    # A DataFrame's column-major copy may change the order of float sums.
    np.testing.assert_allclose(from_frame, on_array.predict_proba(X), rtol=1e-10)


@pytest.mark.parametrize(
    "estimator_class",
    [cls for cls in ESTIMATORS if hasattr(cls, "transform")],
    ids=lambda cls: cls.__name__,
)
def test_set_output_pandas(estimator_class):
    pd = pytest.importorskip("pandas")
    X, y = _fixed_data()
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    estimator = seeded_instance(estimator_class).set_output(transform="pandas")
    fitted_out = estimator.fit_transform(frame, y)
    out = estimator.transform(frame)
    for result in (fitted_out, out):
        assert isinstance(result, pd.DataFrame)
        np.testing.assert_array_equal(result.columns, estimator.get_feature_names_out())
        np.testing.assert_array_equal(result.index, frame.index)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("estimator_class", distillers(), ids=lambda cls: cls.__name__)
def test_deployed_student_knows_the_feature_names(estimator_class):
    """A student shipped alone must check the columns of a DataFrame it gets."""
    pd = pytest.importorskip("pandas")
    X, y = _fixed_data()
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    estimator = seeded_instance(estimator_class).fit(frame, y)
    student = estimator.student_
    np.testing.assert_array_equal(student.feature_names_in_, frame.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        student.predict(frame)
    with pytest.raises(ValueError, match="feature.names"):
        student.predict(frame[frame.columns[::-1]])


@pytest.mark.parametrize("family", list(STUDENTS))
def test_every_student_family_checks_dataframe_columns(family):
    """Reordered columns must raise, never be predicted silently."""
    pd = pytest.importorskip("pandas")
    X, y = _fixed_data(n_per_class=20)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
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
    np.testing.assert_array_equal(student.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="feature.names"):
        student.predict(frame[frame.columns[::-1]])


@pytest.mark.parametrize("family", list(STUDENTS))
def test_every_student_family_gives_probabilities_log_loss_accepts(family):
    """Rows sum to one in float64, as scikit-learn's metrics check them."""
    X, y = _fixed_data(n_per_class=20)
    distiller = TemperatureScheduledDistiller(
        RandomForestClassifier(n_estimators=10, max_depth=4),
        STUDENTS[family](),
        cv=3,
        random_state=0,
    ).fit(X, y)
    proba = distiller.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        log_loss(y, proba)


# Models whose fits do not depend on the classes' order beyond rounding: a
# tree sums its impurity over the classes in their order, so rounding can
# break a near-tie between splits the other way (scikit-learn's trees too).
SMOOTH_PARAMS = {
    TemperatureScheduledDistiller: dict(
        teacher=LogisticRegression(C=10.0), student=LogisticRegression()
    ),
    AttentionMultiTeacherClassifier: dict(
        teachers=[("logistic", LogisticRegression(C=10.0)), ("nb", GaussianNB())]
    ),
    PyramidTeacherClassifier: dict(
        teacher=LogisticRegression(C=10.0), specialist=LogisticRegression()
    ),
    ProgressiveChainClassifier: dict(
        steps=[("a", LogisticRegression(C=10.0)), ("b", LogisticRegression())],
        teacher=GaussianNB(),
        cv=3,
    ),
}


@pytest.mark.parametrize(
    "estimator_class", list(SMOOTH_PARAMS), ids=lambda cls: cls.__name__
)
@settings(FAST, max_examples=6)
@given(data=datasets(), order=st.permutations([0, 1, 2]))
def test_renaming_classes_into_another_order_gives_the_same_model(
    estimator_class, data, order
):
    """Their folds number the classes by first appearance, so the names do not
    matter. HPMKDClassifier's held-out split depends on the labels' order
    (see the user guide)."""
    X, y = data
    order = np.asarray(order)
    estimator = seeded_instance(estimator_class).set_params(
        **SMOOTH_PARAMS[estimator_class]
    )
    on_codes = clone(estimator).fit(X, y)
    on_renamed = clone(estimator).fit(X, order[y])
    columns = np.searchsorted(on_renamed.classes_, order[on_codes.classes_])
    np.testing.assert_array_equal(on_renamed.predict(X), order[on_codes.predict(X)])
    np.testing.assert_allclose(
        on_renamed.predict_proba(X)[:, columns],
        on_codes.predict_proba(X),
        rtol=0,
        atol=1e-8,  # lbfgs stops at another point within its tolerance
    )
