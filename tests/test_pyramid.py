"""PyramidTeacherClassifier: class groups, fused targets, digits and distillation."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_blobs, make_classification
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import KFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import PyramidTeacherClassifier, TemperatureScheduledDistiller
from skhpmkd._pyramid import build_pyramid, fuse_pyramid, soft_confusion, split_classes


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.3, random_state=0, stratify=y)


def _tree(depth=6):
    return DecisionTreeClassifier(max_depth=depth, min_samples_leaf=3, random_state=0)


def test_soft_confusion_by_hand():
    proba = np.array([[0.8, 0.2], [0.6, 0.4], [0.1, 0.9]])
    confusion = soft_confusion(proba, np.array([0, 0, 1]), 2)
    assert_allclose(confusion, [[0.7, 0.3], [0.1, 0.9]])


def test_split_classes_puts_confused_classes_together():
    confusion = np.eye(6) * 0.5
    for a, b in [(0, 3), (1, 4), (2, 5)]:
        confusion[a, b] = confusion[b, a] = 0.3
    confusion[0, 1] = 0.01
    groups = split_classes(np.arange(6), confusion, n_groups=3)
    assert [g.tolist() for g in groups] == [[0, 3], [1, 4], [2, 5]]
    assert [g.tolist() for g in split_classes(np.array([4]), confusion)] == [[4]]


def test_build_pyramid_nests_groups():
    rng = np.random.RandomState(0)
    confusion = rng.dirichlet(np.ones(10), size=10)
    levels = build_pyramid(confusion, n_levels=2)
    for upper, lower in zip([[np.arange(10)]] + levels, levels):
        assert sorted(np.concatenate(lower).tolist()) == list(range(10))
        for group in lower:
            assert sum(np.isin(group, parent).all() for parent in upper) == 1


def test_fuse_pyramid_by_hand():
    top = np.array([[0.1, 0.2, 0.3, 0.4]])
    groups = [[np.array([0, 1]), np.array([2, 3])]]
    specialist = [[np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])]]
    fused = fuse_pyramid(top, groups, specialist)
    assert_allclose(fused, [[0.15, 0.15, 0.63, 0.07]])
    assert_allclose(fuse_pyramid(top, groups, [[None, None]]), top)


def test_digits_pyramid(digits, record_property):
    X_train, X_test, y_train, y_test = digits
    pyramid = PyramidTeacherClassifier(_tree(), cv=3, random_state=0)
    targets = pyramid.fit_transform(X_train, y_train)
    assert_allclose(targets.sum(axis=1), 1.0)
    proba = pyramid.predict_proba(X_test)
    assert_allclose(proba.sum(axis=1), 1.0)

    groups = pyramid.groups_[0]
    assert sorted(np.concatenate(groups).tolist()) == list(range(10))
    assert len(groups) == 4

    # q(k) = q_top(S) q_S(k | S), by hand from the fitted models.
    expected = pyramid.teacher_.predict_proba(X_test)
    for group, specialist in zip(groups, pyramid.specialists_[0]):
        if specialist is None:
            assert len(group) == 1
            continue
        mass = expected[:, group].sum(axis=1, keepdims=True)
        expected[:, group] = mass * specialist.predict_proba(X_test)
    assert_allclose(proba, expected)

    top_alone = _tree().fit(X_train, y_train)
    top_accuracy = accuracy_score(y_test, top_alone.predict(X_test))
    pyramid_accuracy = accuracy_score(y_test, pyramid.predict(X_test))
    record_property("digits_tree_teacher_accuracy", top_accuracy)
    record_property("digits_pyramid_accuracy", pyramid_accuracy)
    top_log_loss = log_loss(y_test, top_alone.predict_proba(X_test))
    record_property("digits_tree_teacher_log_loss", top_log_loss)
    record_property("digits_pyramid_log_loss", log_loss(y_test, proba))
    # Specialists separating the classes the depth-6 tree confuses help it.
    assert pyramid_accuracy > top_accuracy


def test_two_levels_and_singleton_groups(digits):
    X_train, _, y_train, _ = digits
    pyramid = PyramidTeacherClassifier(
        LogisticRegression(max_iter=300), _tree(3), n_levels=2, cv=3, random_state=0
    ).fit(X_train[:600], y_train[:600])
    assert len(pyramid.groups_) == len(pyramid.specialists_) == 2
    assert len(pyramid.groups_[1]) > len(pyramid.groups_[0])
    for level in pyramid.specialists_:
        assert any(model is not None for model in level)
    for level_groups, level_models in zip(pyramid.groups_, pyramid.specialists_):
        for group, model in zip(level_groups, level_models):
            if len(group) == 1:
                assert model is None
    assert_allclose(pyramid.predict_proba(X_train[:50]).sum(axis=1), 1.0)


def test_string_labels_and_frozen_teacher():
    X, y = make_classification(
        n_samples=200,
        n_features=8,
        n_informative=6,
        n_classes=5,
        n_clusters_per_class=1,
        random_state=0,
    )
    labels = np.array(list("vwxyz"))[y]
    frozen = FrozenEstimator(LogisticRegression(max_iter=500).fit(X, labels))
    pyramid = PyramidTeacherClassifier(frozen, cv=3, random_state=0).fit(X, labels)
    assert_array_equal(pyramid.classes_, list("vwxyz"))
    assert all(group.dtype.kind == "U" for group in pyramid.groups_[0])
    assert set(pyramid.predict(X)) <= set(labels)
    assert pyramid.score(X, labels) > 0.6


def test_classes_a_frozen_teacher_leaves_unsplit_are_named_in_a_warning(digits):
    # A tree that memorised its rows confuses no digits on them; frozen, it
    # is not cross-fitted, so the pyramid cannot group the classes.
    X_train, _, y_train, _ = digits
    X, y = X_train[:400], y_train[:400]
    frozen = FrozenEstimator(DecisionTreeClassifier(random_state=0).fit(X, y))
    with pytest.warns(UserWarning, match=r"could not split the classes \['0', '1'"):
        pyramid = PyramidTeacherClassifier(frozen, cv=3, random_state=0).fit(X, y)
    assert len(pyramid.groups_[0]) == 1
    assert pyramid.specialists_ == [[None]]
    # Cross-fitted, the same tree confuses some digits, and groups them.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        pyramid = PyramidTeacherClassifier(
            DecisionTreeClassifier(random_state=0), cv=3, random_state=0
        ).fit(X, y)
    assert len(pyramid.groups_[0]) > 1


def test_a_cross_fitted_teacher_that_confuses_nothing_is_not_warned_about():
    # Separate blobs: the teacher makes no out-of-fold error, so no grouping
    # helps; that is the data, not a frozen teacher's in-sample view.
    X, y = make_blobs(n_samples=150, centers=5, cluster_std=0.2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        pyramid = PyramidTeacherClassifier(_tree(3), cv=3, random_state=0).fit(X, y)
    assert_allclose(np.trace(pyramid.confusion_), 5.0)
    assert pyramid.specialists_ == [[None]]


def test_specialists_predict_positions_within_their_group():
    X, y = make_classification(
        n_samples=200, n_features=8, n_informative=6, n_classes=5,
        n_clusters_per_class=1, random_state=0,
    )  # fmt: skip
    labels = np.array(["ant", "bee", "cat", "dog", "eel"])[y]
    pyramid = PyramidTeacherClassifier(
        LogisticRegression(max_iter=500), cv=3, random_state=0
    ).fit(X, labels)
    for group, model in zip(pyramid.groups_[0], pyramid.specialists_[0]):
        if model is not None:
            assert_array_equal(model.classes_, np.arange(len(group)))
            rows = np.isin(labels, group)
            accuracy = np.mean(group[model.predict(X[rows])] == labels[rows])
            assert accuracy > 0.7


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_frozen_specialist_is_rejected(in_pipeline):
    X, y = make_classification(
        n_samples=60, n_classes=3, n_informative=4, random_state=0
    )
    frozen = FrozenEstimator(LogisticRegression().fit(X, y))
    if in_pipeline:
        frozen = make_pipeline(FunctionTransformer(), frozen)
    with pytest.raises(ValueError, match="specialist must be an unfitted"):
        PyramidTeacherClassifier(LogisticRegression(), frozen, cv=3).fit(X, y)


def _four_classes():
    return make_classification(
        n_samples=200, n_classes=4, n_informative=5, random_state=0
    )


class _CountingKFold(KFold):
    """A ``KFold`` that counts the calls to its ``split``."""

    calls = 0

    def split(self, X, y=None, groups=None):
        self.calls += 1
        return super().split(X, y, groups)


def test_the_teacher_and_the_specialists_share_one_split():
    X, y = _four_classes()
    cv = _CountingKFold(3, shuffle=True)
    pyramid = PyramidTeacherClassifier(_tree(3), cv=cv, random_state=0).fit(X, y)
    assert any(model is not None for model in pyramid.specialists_[0])
    assert cv.calls == 1


@pytest.mark.parametrize("seed", ["global", "instance"])
def test_an_unseeded_shuffling_splitter_gives_the_fit_on_its_folds(seed):
    # Its folds change with every call to split; drawn once, they serve the
    # teacher and the specialists, so the fit is the one on those folds as a
    # list, and two fits from the same draws give identical results.
    X, y = _four_classes()

    def shuffling():
        if seed == "global":
            np.random.seed(0)
            return KFold(3, shuffle=True)
        return KFold(3, shuffle=True, random_state=np.random.RandomState(0))

    def pyramid(cv):
        return PyramidTeacherClassifier(_tree(3), cv=cv, random_state=0)

    targets = [pyramid(shuffling()).fit_transform(X, y) for _ in range(2)]
    listed = pyramid(list(shuffling().split(X, y)))
    expected = listed.fit_transform(X, y)
    assert any(model is not None for model in listed.specialists_[0])
    for fused in targets:
        assert_array_equal(fused, expected)


def test_parallel_results_equal_sequential(digits):
    X_train, _, y_train, _ = digits
    X, y = X_train[:400], y_train[:400]
    first, second = (
        PyramidTeacherClassifier(
            _tree(), cv=3, random_state=0, n_jobs=n_jobs
        ).fit_transform(X, y)
        for n_jobs in (1, 2)
    )
    assert_allclose(first, second)


def test_distiller_and_ensemble_of_students(digits):
    X_train, X_test, y_train, y_test = digits
    X, y = X_train[:600], y_train[:600]
    pyramid = PyramidTeacherClassifier(_tree(), cv=3, random_state=0)
    students = VotingClassifier(
        [
            (
                f"tree{depth}",
                TemperatureScheduledDistiller(
                    pyramid,
                    DecisionTreeClassifier(max_depth=depth),
                    alpha=0.7,
                    cv=3,
                    random_state=depth,
                ),
            )
            for depth in (6, 8)
        ],
        voting="soft",
    ).fit(X, y)
    member = students.estimators_[0]
    assert isinstance(member.teacher_, PyramidTeacherClassifier)
    assert member.fidelity_["agreement"] > 0.6
    assert_allclose(students.predict_proba(X_test).sum(axis=1), 1.0)
    assert students.score(X_test, y_test) > 0.6


def test_a_specialist_fold_without_some_of_its_classes_is_fitted_on_the_rest():
    # XGBoost takes codes 0..k-1 without a gap: on rows sorted by class,
    # unshuffled folds leave classes out and it refused the fold's codes.
    from skhpmkd._pyramid import _fit_specialist

    xgboost = pytest.importorskip("xgboost")
    X, y = load_digits(return_X_y=True)
    order = np.argsort(y, kind="stable")
    X, y = X[order][::3] / 16, y[order][::3]
    specialist = xgboost.XGBClassifier(n_estimators=5, n_jobs=1)
    with pytest.warns(UserWarning, match="lack a class"):
        pyramid = PyramidTeacherClassifier(
            LogisticRegression(max_iter=300), specialist, cv=KFold(3), random_state=0
        ).fit(X, y)
    assert_allclose(pyramid.transform(X).sum(axis=1), 1.0)

    # The missing class gets probability 0; the others are the fit's own.
    train, test = np.arange(0, 60), np.arange(60, 90)
    local_y = np.repeat([0, 2], 30)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0)
    proba, n_fits = _fit_specialist(tree, X, local_y, train, test, 3, None)
    direct = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X[train], local_y)
    assert_array_equal(proba[:, [0, 2]], direct.predict_proba(X[test]))
    assert_array_equal(proba[:, 1], 0.0)
    assert n_fits == 1
    proba, _ = _fit_specialist(specialist, X, local_y, train, test, 3, None)
    assert_array_equal(proba[:, 1], 0.0)
    assert_allclose(proba.sum(axis=1), 1.0)


def test_a_group_without_training_rows_in_a_fold_gets_the_uniform_prior():
    # Rows sorted by class and unshuffled folds: each fold's training rows
    # hold only the other group's classes. No specialist is fitted there; the
    # group's mass is shared evenly, as for group rows that all weigh zero.
    X, y = make_blobs(200, centers=[[0, 0], [1, 0], [8, 0], [9, 0]], random_state=0)
    X, y = X[np.argsort(y, kind="stable")], np.sort(y)
    teacher = FrozenEstimator(LogisticRegression(C=0.1).fit(X, y))
    pyramid = PyramidTeacherClassifier(teacher, GaussianNB(), cv=KFold(2))
    with pytest.warns(UserWarning, match="lack a class"):
        targets = pyramid.fit_transform(X, y)
    assert [g.tolist() for g in pyramid.groups_[0]] == [[0, 1], [2, 3]]
    # Each group: one fold and the final fit.
    assert pyramid.n_models_fitted_ == 4

    top = teacher.predict_proba(X)
    for empty, fitted, test in [([0, 1], [2, 3], y < 2), ([2, 3], [0, 1], y >= 2)]:
        mass = top[test][:, empty].sum(axis=1)
        assert_allclose(targets[test][:, empty], np.outer(mass, [0.5, 0.5]))
        specialist = GaussianNB().fit(X[~test], y[~test] % 2)
        mass = top[test][:, fitted].sum(axis=1, keepdims=True)
        expected = mass * specialist.predict_proba(X[test])
        assert_allclose(targets[test][:, fitted], expected)
