"""Row weights in PyramidTeacherClassifier: teacher, confusion, specialists."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_blobs
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import PyramidTeacherClassifier, TemperatureScheduledDistiller
from skhpmkd._pyramid import (
    _fit_specialist,
    build_pyramid,
    fuse_pyramid,
    soft_confusion,
)
from tests._helpers import (
    BAD_WEIGHTS,
    assert_routed_cross_validation_weighs,
    scaled_wine,
    weighted_out_of_fold_proba,
)


@pytest.fixture(scope="module")
def six_digits():
    X, y = load_digits(n_class=6, return_X_y=True)
    weight = np.random.RandomState(0).uniform(0.1, 5, size=len(y))
    return X[::2] / 16, y[::2], weight[::2]


def _logistic():
    return LogisticRegression(max_iter=2000)


def test_weighted_soft_confusion_is_the_weighted_mean_of_each_class():
    rng = np.random.RandomState(0)
    proba = rng.dirichlet(np.ones(4), size=40)
    y = rng.randint(0, 3, size=40)  # class 3 has no rows
    weight = rng.uniform(0, 3, size=40)
    weight[y == 2] = 0  # class 2 has no weight
    confusion = soft_confusion(proba, y, 4, sample_weight=weight)
    for code in range(2):
        rows = y == code
        expected = np.average(proba[rows], axis=0, weights=weight[rows])
        assert_allclose(confusion[code], expected)
    assert_array_equal(confusion[2:], 0.0)


def test_unit_weights_change_nothing():
    X, y = scaled_wine()
    fits = [
        PyramidTeacherClassifier(
            LogisticRegression(C=0.1),
            DecisionTreeClassifier(max_depth=2),
            cv=3,
            random_state=0,
        )
        for _ in range(2)
    ]
    targets = fits[0].fit_transform(X, y)
    weighted_targets = fits[1].fit_transform(X, y, sample_weight=np.ones(len(y)))
    assert_allclose(weighted_targets, targets)
    assert_allclose(fits[1].predict_proba(X), fits[0].predict_proba(X))


def test_out_of_fold_targets_equal_per_fold_weighted_fits(six_digits):
    """Each fold's teacher, the confusion and each fold's specialists, by hand."""
    X, y, weight = six_digits
    cv = StratifiedKFold(3)
    pyramid = PyramidTeacherClassifier(_logistic(), cv=cv)
    targets = pyramid.fit_transform(X, y, sample_weight=weight)

    splits = list(cv.split(X, y))
    top = weighted_out_of_fold_proba(_logistic(), X, y, weight, cv)
    confusion = [
        np.average(top[y == code], axis=0, weights=weight[y == code])
        for code in range(6)
    ]
    assert_allclose(pyramid.confusion_, confusion)
    groups = build_pyramid(pyramid.confusion_, n_levels=1)
    assert [g.tolist() for g in groups[0]] == [g.tolist() for g in pyramid.groups_[0]]
    assert any(len(group) > 1 for group in groups[0])

    specialist_probas = []
    for group in groups[0]:
        if len(group) == 1:
            specialist_probas.append(None)
            continue
        in_group = np.isin(y, group)
        local_y = np.searchsorted(group, y)
        proba = np.zeros((len(y), len(group)))
        for train, test in splits:
            rows = train[in_group[train]]
            fold = _logistic().fit(X[rows], local_y[rows], weight[rows])
            proba[test] = fold.predict_proba(X[test])
        specialist_probas.append(proba)
    assert_allclose(targets, fuse_pyramid(top, groups, [specialist_probas]))


def test_final_models_equal_the_weighted_fits_on_their_rows(six_digits):
    X, y, weight = six_digits
    pyramid = PyramidTeacherClassifier(_logistic(), cv=3).fit(
        X, y, sample_weight=weight
    )
    teacher = _logistic().fit(X, y, sample_weight=weight)
    assert_allclose(pyramid.teacher_.coef_, teacher.coef_)
    fitted = 0
    for group, specialist in zip(pyramid.groups_[0], pyramid.specialists_[0]):
        if specialist is None:
            continue
        rows = np.isin(y, group)
        local_y = np.searchsorted(group, y[rows])
        expected = _logistic().fit(X[rows], local_y, sample_weight=weight[rows])
        assert_allclose(specialist.coef_, expected.coef_)
        assert_allclose(specialist.intercept_, expected.intercept_)
        fitted += 1
    assert fitted > 0


def _frozen_pyramid(X, y, specialist):
    teacher = FrozenEstimator(LogisticRegression(C=0.1).fit(X, y))
    return PyramidTeacherClassifier(teacher, specialist, cv=3, random_state=0)


def _assert_same_pyramid(pyramid, other, X, atol):
    assert_allclose(pyramid.confusion_, other.confusion_)
    for groups, other_groups in zip(pyramid.groups_, other.groups_):
        assert [g.tolist() for g in groups] == [g.tolist() for g in other_groups]
    assert any(model is not None for model in pyramid.specialists_[0])
    assert_allclose(pyramid.predict_proba(X), other.predict_proba(X), atol=atol)


def test_integer_weights_equal_repeated_rows(six_digits):
    """A row of weight k counts as k copies (a frozen teacher, so that no
    teacher fold differs; the final specialists see all rows)."""
    X, y, _ = six_digits
    repeats = np.random.RandomState(1).randint(1, 4, size=len(y))
    specialist = LogisticRegression(tol=1e-10, max_iter=10_000)
    weighted = _frozen_pyramid(X, y, specialist).fit(X, y, sample_weight=repeats)
    repeated = _frozen_pyramid(X, y, specialist).fit(
        np.repeat(X, repeats, axis=0), np.repeat(y, repeats)
    )
    _assert_same_pyramid(weighted, repeated, X, atol=1e-6)
    for model, other in zip(weighted.specialists_[0], repeated.specialists_[0]):
        if model is not None:
            assert_allclose(model.coef_, other.coef_, atol=1e-5)


@pytest.mark.parametrize(
    "specialist",
    [LogisticRegression(), HistGradientBoostingClassifier(max_iter=20)],
    ids=["logistic", "boosting"],
)
def test_zero_weights_equal_dropped_rows(specialist):
    """Rows of weight zero are left out of the specialists' fits: gradient
    boosting would bin their features otherwise."""
    X, y = scaled_wine()
    weight = np.ones(len(y))
    weight[::3] = 0
    kept = weight > 0
    weighted = _frozen_pyramid(X, y, specialist).fit(X, y, sample_weight=weight)
    dropped = _frozen_pyramid(X, y, specialist).fit(X[kept], y[kept])
    _assert_same_pyramid(weighted, dropped, X, atol=1e-6)


def test_fold_specialists_of_rows_without_weight():
    """Rows of weight zero act as if absent: the prior of the weighted rows,
    uniform over the rows' classes when none weighs anything."""
    X, y = scaled_wine()
    rows = np.flatnonzero(y < 2)
    local_y, test = y[rows], np.arange(5)

    def fold_proba(weight, n_local=2):
        proba, _ = _fit_specialist(
            LogisticRegression(), X, local_y, rows, test, n_local, weight
        )
        return proba

    weight = np.where(local_y == 1, 0.0, 2.0)
    assert_array_equal(fold_proba(weight), np.tile([1.0, 0.0], (5, 1)))
    assert_array_equal(fold_proba(np.zeros(len(rows))), np.full((5, 2), 0.5))
    uniform = fold_proba(np.zeros(len(rows)), n_local=3)
    assert_array_equal(uniform, np.tile([0.5, 0.5, 0.0], (5, 1)))

    weight = np.random.RandomState(0).uniform(0, 2, size=len(rows))
    weight[::2] = 0
    kept = rows[weight > 0]
    expected = LogisticRegression().fit(X[kept], y[kept], weight[weight > 0])
    assert_allclose(fold_proba(weight), expected.predict_proba(X[test]))


@pytest.mark.parametrize("zero_classes", ["both", "one"])
def test_a_fold_whose_group_rows_weigh_zero(zero_classes):
    """End to end: in the first fold, the specialist's training rows of the
    group weigh zero (uniform within the group), or those of one class do
    (all the group's mass on the other)."""
    # Classes 0 and 1 overlap, 2 lies apart: the groups are [0, 1] and [2].
    X, y = make_blobs(150, centers=[[0, 0], [1, 0], [6, 0]], random_state=0)
    cv = list(StratifiedKFold(3).split(X, y))
    pyramid = _frozen_pyramid(X, y, LogisticRegression()).set_params(cv=cv)
    group = np.array([0, 1])
    zeroed = group if zero_classes == "both" else group[1:]
    train, test = cv[0]
    weight = np.ones(len(y))
    weight[train[np.isin(y[train], zeroed)]] = 0
    targets = pyramid.fit_transform(X, y, sample_weight=weight)
    assert [g.tolist() for g in pyramid.groups_[0]] == [[0, 1], [2]]

    top = pyramid.teacher_.predict_proba(X[test])
    mass = top[:, group].sum(axis=1)
    shares = [0.5, 0.5] if zero_classes == "both" else [1.0, 0.0]
    assert_allclose(targets[test][:, group], np.outer(mass, shares))
    assert_allclose(targets[test][:, 2], top[:, 2])
    # The first fold's stand-in is no fit: the two other folds and the final
    # fit of [0, 1] are (the frozen teacher is not refitted).
    assert pyramid.n_models_fitted_ == 3


@pytest.mark.parametrize(
    "teacher, specialist, message",
    [
        (
            LogisticRegression(),
            KNeighborsClassifier(),
            "specialist KNeighborsClassifier.fit takes no",
        ),
        (KNeighborsClassifier(), None, "teacher KNeighborsClassifier.fit takes no"),
        (
            KNeighborsClassifier(),
            LogisticRegression(),
            "teacher KNeighborsClassifier.fit takes no",
        ),
        ("frozen", None, "specialist KNeighborsClassifier.fit takes no"),
    ],
)
def test_models_without_weights_are_refused_before_any_fit(
    teacher, specialist, message
):
    X, y = scaled_wine()
    if teacher == "frozen":
        teacher = FrozenEstimator(KNeighborsClassifier().fit(X, y))
    pyramid = PyramidTeacherClassifier(teacher, specialist, cv=3)
    with pytest.raises(ValueError, match=message):
        pyramid.fit(X, y, sample_weight=np.ones(len(y)))
    assert not hasattr(pyramid, "teacher_")


def test_a_frozen_teacher_without_weights_is_fine():
    X, y = scaled_wine()
    teacher = FrozenEstimator(KNeighborsClassifier().fit(X, y))
    pyramid = PyramidTeacherClassifier(teacher, LogisticRegression(), cv=3)
    pyramid.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    assert pyramid.predict(X).shape == y.shape


def test_the_users_weights_are_not_changed():
    X, y = scaled_wine()
    weight = np.random.RandomState(5).uniform(0, 2, size=len(y))
    before = weight.copy()
    PyramidTeacherClassifier(LogisticRegression(), cv=3).fit(X, y, sample_weight=weight)
    assert_array_equal(weight, before)


def test_search_and_cross_validation_pass_the_weights():
    X, y = scaled_wine()
    weight = np.random.RandomState(4).uniform(0.1, 5, size=len(y))
    pyramid = PyramidTeacherClassifier(LogisticRegression(C=0.05), cv=3)
    search = GridSearchCV(pyramid, {"n_levels": [1, 2]}, cv=3)
    search.fit(X, y, sample_weight=weight)
    direct = PyramidTeacherClassifier(LogisticRegression(C=0.05), cv=3)
    direct.set_params(**search.best_params_).fit(X, y, sample_weight=weight)
    assert_allclose(search.best_estimator_.predict_proba(X), direct.predict_proba(X))

    assert_routed_cross_validation_weighs(pyramid, X, y, weight)


def test_a_distiller_distils_a_weighted_pyramid():
    X, y = scaled_wine()
    weight = np.random.RandomState(6).uniform(0.1, 5, size=len(y))
    pyramid = PyramidTeacherClassifier(LogisticRegression(C=0.05), cv=3)
    distiller = TemperatureScheduledDistiller(pyramid, LogisticRegression(), cv=3)
    distiller.fit(X, y, sample_weight=weight)
    direct = pyramid.fit(X, y, sample_weight=weight)
    assert_allclose(distiller.teacher_.confusion_, direct.confusion_)


@pytest.mark.parametrize("weight, message", BAD_WEIGHTS)
def test_bad_weights_get_scikit_learns_errors(weight, message):
    X, y = scaled_wine()
    with pytest.raises(ValueError, match=message):
        PyramidTeacherClassifier(LogisticRegression(), cv=3).fit(
            X, y, sample_weight=weight
        )
