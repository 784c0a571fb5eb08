"""``n_models_fitted_`` counts every model a fit trained, nested teachers included.

The models below record each call of their ``fit``; with ``n_jobs=1`` every
fit runs in this process, so the record is the truth the counts must match.
"""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    ProgressiveChainClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)

FITS = []


class CountedTree(DecisionTreeClassifier):
    def fit(self, X, y, sample_weight=None, check_input=True):
        FITS.append(type(self).__name__)
        return super().fit(X, y, sample_weight=sample_weight, check_input=check_input)


class CountedLogistic(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        FITS.append(type(self).__name__)
        return super().fit(X, y, sample_weight=sample_weight)


class CountedForest(RandomForestClassifier):
    def fit(self, X, y, sample_weight=None):
        FITS.append(type(self).__name__)
        return super().fit(X, y, sample_weight=sample_weight)


def _tree(**params):
    return CountedTree(random_state=0, **params)


def _logistic(**params):
    return CountedLogistic(max_iter=1000, **params)


def _distiller(cv=4):
    return TemperatureScheduledDistiller(_tree(), _logistic(), cv=cv)


def _frozen_tree():
    X, y = load_iris(return_X_y=True)
    # Not grown to purity: its confusions give the pyramid groups to split.
    tree = DecisionTreeClassifier(max_depth=2, random_state=0)
    return FrozenEstimator(tree.fit(X, y))


ESTIMATORS = {
    "distiller": lambda: TemperatureScheduledDistiller(_tree(), _logistic(), cv=3),
    "distiller_frozen": lambda: TemperatureScheduledDistiller(
        _frozen_tree(), _logistic()
    ),
    "distiller_of_distiller": lambda: TemperatureScheduledDistiller(
        _distiller(), _logistic(), cv=3
    ),
    "distiller_forest": lambda: TemperatureScheduledDistiller(
        CountedForest(n_estimators=5, oob_score=True, random_state=0), _logistic()
    ),
    "chain": lambda: ProgressiveChainClassifier(
        [("a", _logistic()), ("b", _logistic(C=0.1))], teacher=_tree(), cv=3
    ),
    "chain_auto": lambda: ProgressiveChainClassifier(
        "auto", teacher=_tree(), auto_student=_tree(max_depth=1), cv=3
    ),
    "chain_of_distiller": lambda: ProgressiveChainClassifier(
        [("a", _logistic())], teacher=_distiller(), cv=3
    ),
    "pyramid": lambda: PyramidTeacherClassifier(
        _tree(), specialist=_logistic(), n_levels=2, cv=3
    ),
    "pyramid_frozen": lambda: PyramidTeacherClassifier(
        _frozen_tree(), specialist=_logistic(), cv=3
    ),
    "pyramid_of_distillers": lambda: PyramidTeacherClassifier(
        _tree(), specialist=_distiller(cv=3), cv=3
    ),
    "fused": lambda: AttentionMultiTeacherClassifier(
        [
            ("tree", _tree()),
            ("forest", CountedForest(n_estimators=5, random_state=0)),
            ("frozen", _frozen_tree()),
            ("distiller", _distiller()),
            ("dropped", "drop"),
        ],
        cv=3,
    ),
    "fused_oob": lambda: AttentionMultiTeacherClassifier(
        [
            ("oob", CountedForest(n_estimators=5, oob_score=True, random_state=0)),
            ("logistic", _logistic()),
        ],
        cv=3,
    ),
}


@pytest.mark.parametrize("name", ESTIMATORS)
def test_n_models_fitted_counts_every_fit(name):
    X, y = load_iris(return_X_y=True)
    estimator = ESTIMATORS[name]()
    FITS.clear()
    estimator.fit(X, y)
    assert FITS  # the case fits counted models at all
    assert estimator.n_models_fitted_ == len(FITS)


@pytest.mark.parametrize(
    "teacher", ["distiller_of_distiller", "chain", "chain_auto", "pyramid", "fused"]
)
def test_hpmkd_counts_the_fits_inside_an_skhpmkd_teacher(teacher):
    X, y = load_iris(return_X_y=True)
    # Students that record no fits: what is recorded is the teacher's.
    model = HPMKDClassifier(
        ESTIMATORS[teacher](), students=["lr"], budget=1, random_state=0
    )
    FITS.clear()
    model.fit(X, y)
    assert model.n_teacher_fits_ == len(FITS) > 5
    assert model.n_models_fitted_ == model.n_teacher_fits_ + model.n_student_fits_


def test_fused_teachers_held_by_memory_count_no_fits(tmp_path):
    X, y = load_iris(return_X_y=True)
    # The memory hits only with seeded teachers.
    first = ESTIMATORS["fused"]().set_params(memory=str(tmp_path), random_state=0)
    second = ESTIMATORS["fused"]().set_params(memory=str(tmp_path), random_state=0)
    assert first.fit(X, y).n_models_fitted_ > 0
    FITS.clear()
    assert second.fit(X, y).n_models_fitted_ == len(FITS) == 0


def test_a_generator_of_splits_is_counted_as_the_folds_it_gave():
    # A generator can be split only once: the count must not split it again.
    X, y = load_iris(return_X_y=True)
    folds = (
        (
            np.flatnonzero(np.arange(150) % 3 != k),
            np.flatnonzero(np.arange(150) % 3 == k),
        )
        for k in range(3)
    )
    distiller = TemperatureScheduledDistiller(_tree(), _logistic(), cv=folds)
    FITS.clear()
    assert distiller.fit(X, y).n_models_fitted_ == len(FITS) == 3 + 1 + 1


def test_a_teacher_fold_of_one_class_is_not_counted():
    # Its training rows hold one class, which is given probability 1 without
    # a fit (logistic regression would refuse them).
    from sklearn.model_selection import KFold

    X, y = load_iris(return_X_y=True)
    y = (y == 2).astype(int)
    X, y = X[np.argsort(-y, kind="stable")], np.sort(y)[::-1].copy()
    y[1:50] = 0  # fold 1's training rows (rows 50 on) hold class 0 only
    distiller = TemperatureScheduledDistiller(_logistic(), _tree(), cv=KFold(3))
    FITS.clear()
    with pytest.warns(UserWarning, match="lack a class"):
        distiller.fit(X, y)
    assert FITS.count("CountedLogistic") == 3  # two folds and the final fit
    assert distiller.n_models_fitted_ == len(FITS) == 4


def test_a_specialist_fold_of_one_class_is_not_counted():
    # On rows sorted by class, two folds' training rows of the group [1, 2]
    # hold one class, whose prior stands in without a fit.
    from sklearn.model_selection import KFold

    X, y = load_iris(return_X_y=True)
    pyramid = PyramidTeacherClassifier(_logistic(), cv=KFold(3))
    FITS.clear()
    with pytest.warns(UserWarning, match="lack a class"):
        pyramid.fit(X, y)
    assert [group.tolist() for group in pyramid.groups_[0]] == [[0], [1, 2]]
    # The teacher's three folds and final fit, the specialist's fold of the
    # two classes and final fit.
    assert pyramid.n_models_fitted_ == len(FITS) == 6
