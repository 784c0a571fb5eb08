"""Row weights in TemperatureScheduledDistiller: teacher, transfer set, student."""

import warnings

import numpy as np
import pytest
from lightgbm import LGBMClassifier
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
)
from xgboost import XGBClassifier

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    ProgressiveChainClassifier,
    TemperatureScheduledDistiller,
)
from skhpmkd._augment import interpolate, munge
from skhpmkd._sample_weight import check_booster_weights
from tests._helpers import (
    BAD_WEIGHTS,
    STUDENTS,
    scaled_wine,
    weighted_out_of_fold_proba,
)


def _frozen_teacher(X, y):
    return FrozenEstimator(LogisticRegression(C=0.1).fit(X, y))


# A forest is left out: scikit-learn's own forests draw their bootstrap
# samples differently once given weights, even all ones.
@pytest.mark.parametrize("family", sorted(set(STUDENTS) - {"forest"}))
def test_unit_weights_change_nothing(family):
    X, y = scaled_wine()
    weight = np.ones(len(y))
    distillers = [
        TemperatureScheduledDistiller(
            LogisticRegression(C=0.1),
            STUDENTS[family](),
            temperature=2.0,
            augment=1.0,
            cv=3,
            random_state=0,
        )
        for _ in range(2)
    ]
    unweighted = distillers[0].fit(X, y)
    weighted = distillers[1].fit(X, y, sample_weight=weight)
    assert_allclose(weighted.predict_proba(X), unweighted.predict_proba(X))


@pytest.mark.parametrize("family", ["logistic", "tree", "xgboost"])
def test_integer_weights_equal_repeated_rows(family):
    """A row of weight k counts as k copies: the student of the weighted rows
    is the student of the repeated rows (a frozen teacher, so that no fold
    split differs)."""
    X, y = scaled_wine()
    repeats = np.random.RandomState(0).randint(1, 4, size=len(y))
    teacher = _frozen_teacher(X, y)

    def distiller():
        return TemperatureScheduledDistiller(
            teacher, STUDENTS[family](), temperature=2.0, alpha=0.6, random_state=0
        )

    weighted = distiller().fit(X, y, sample_weight=repeats)
    repeated = distiller().fit(np.repeat(X, repeats, axis=0), np.repeat(y, repeats))
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-5)


def test_zero_weights_equal_dropped_rows():
    X, y = scaled_wine()
    weight = np.ones(len(y))
    weight[::3] = 0
    kept = weight > 0
    teacher = _frozen_teacher(X, y)

    def distiller():
        return TemperatureScheduledDistiller(
            teacher, LogisticRegression(), temperature=3.0, random_state=0
        )

    weighted = distiller().fit(X, y, sample_weight=weight)
    dropped = distiller().fit(X[kept], y[kept])
    assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), atol=1e-6)


def test_every_teacher_fold_is_fitted_with_its_rows_weights():
    X, y = scaled_wine()
    weight = np.random.RandomState(0).uniform(0.1, 5, size=len(y))
    cv = StratifiedKFold(3)
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(C=0.05), DecisionTreeClassifier(max_depth=2), cv=cv
    )
    targets = distiller.fit_transform(X, y, sample_weight=weight)

    expected = weighted_out_of_fold_proba(LogisticRegression(C=0.05), X, y, weight, cv)
    assert_allclose(targets, expected, atol=1e-6)
    full = LogisticRegression(C=0.05).fit(X, y, sample_weight=weight)
    assert_allclose(distiller.teacher_.coef_, full.coef_, atol=1e-5)


def test_bagged_teacher_gives_out_of_bag_targets_of_its_weighted_fit():
    X, y = load_breast_cancer(return_X_y=True)
    weight = np.random.RandomState(1).uniform(0.5, 2, size=len(y))
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    targets = TemperatureScheduledDistiller(forest, random_state=0).fit_transform(
        X, y, sample_weight=weight
    )
    oob = RandomForestClassifier(n_estimators=30, random_state=0, oob_score=True)
    oob.fit(X, y, sample_weight=weight)
    expected = oob.oob_decision_function_
    # Rows in every bootstrap sample have no estimate (NaN or zeros).
    out_of_bag = np.isfinite(expected).all(axis=1) & (expected.sum(axis=1) > 0)
    assert out_of_bag.mean() > 0.9
    # The targets are clipped at 1e-12 (through the logits).
    assert_allclose(targets[out_of_bag], expected[out_of_bag], atol=1e-11)


def test_bagged_teacher_whose_other_rows_weigh_nothing_is_named():
    # Weight on 4 rows only: the bootstrap samples, drawn by weight, hold them
    # all, and the copy fitted to give them targets has only weight-0 rows
    # (scikit-learn said "Sample weights must contain at least one non-zero
    # number").
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[:40], y[:40]
    weight = np.zeros(len(y))
    weight[np.flatnonzero(y == 0)[:2]] = weight[np.flatnonzero(y == 1)[:2]] = 1.0
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    with pytest.raises(
        ValueError,
        match=(
            r"4 rows are in every bootstrap sample of the teacher "
            r"RandomForestClassifier \(drawn in proportion to sample_weight\), so "
            r"they have no out-of-bag soft targets, and the other 36 rows, .* all "
            r"have sample_weight 0\. Give more rows a positive weight, or a "
            r"teacher with bootstrap=False"
        ),
    ):
        TemperatureScheduledDistiller(forest, random_state=0).fit(
            X, y, sample_weight=weight
        )


def test_weights_reach_a_pipeline_student_and_a_routed_one():
    X, y = scaled_wine()
    weight = np.random.RandomState(2).randint(0, 4, size=len(y)).astype(float)
    teacher = _frozen_teacher(X, y)
    fits = []
    for routing in (False, True):
        with config_context(enable_metadata_routing=routing):
            student = make_pipeline(StandardScaler(), LogisticRegression())
            fits.append(
                TemperatureScheduledDistiller(teacher, student, temperature=2.0)
                .fit(X, y, sample_weight=weight)
                .predict_proba(X)
            )
    unweighted = TemperatureScheduledDistiller(
        teacher, make_pipeline(StandardScaler(), LogisticRegression()), temperature=2.0
    ).fit(X, y)
    assert_allclose(fits[0], fits[1])
    assert not np.allclose(fits[0], unweighted.predict_proba(X), atol=1e-3)


@pytest.mark.parametrize("method", [interpolate, munge])
def test_transfer_rows_start_in_proportion_to_the_weights(method):
    rng = np.random.RandomState(0)
    near_zero = rng.normal(0, 0.1, size=(30, 2))
    near_ten = rng.normal(10, 0.1, size=(30, 2))
    X = np.vstack([near_zero, near_ten])
    weight = np.r_[np.full(30, 3.0), np.full(30, 1.0)]
    new = method(X, 100, random_state=np.random.RandomState(1), sample_weight=weight)
    assert len(new) == 6000
    assert abs(np.mean(new[:, 0] < 5) - 0.75) < 0.03

    weight[30:] = 0  # rows of weight zero are not there, nor as neighbours
    new = method(X, 10, random_state=np.random.RandomState(1), sample_weight=weight)
    assert np.all(new[:, 0] < 1)


def test_transfer_and_unlabelled_rows_weigh_the_mean_weight():
    """Scaling every weight by a constant scales every row's loss alike, new
    rows included, so a tree student (whose splits do not depend on the
    scale) is unchanged. New rows of a fixed weight would change it."""
    X, y = scaled_wine()
    weight = np.random.RandomState(3).uniform(0.2, 3, size=len(y))
    fits = [
        TemperatureScheduledDistiller(
            _frozen_teacher(X, y),
            DecisionTreeClassifier(max_depth=4),
            augment=1.0,
            random_state=0,
        ).fit(X, y, X_unlabeled=X[:20] + 0.1, sample_weight=scale * weight)
        for scale in (1.0, 1000.0)
    ]
    assert_allclose(fits[0].predict_proba(X), fits[1].predict_proba(X))


def test_search_and_cross_validation_pass_the_weights():
    X, y = scaled_wine()
    weight = np.random.RandomState(4).uniform(0.5, 2, size=len(y))
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(C=0.1), LogisticRegression(), cv=3, random_state=0
    )
    search = GridSearchCV(distiller, {"alpha": [0.2, 0.8]}, cv=3)
    search.fit(X, y, sample_weight=weight)
    assert search.best_estimator_.student_.coef_.shape == (3, 13)
    with config_context(enable_metadata_routing=True):
        routed = distiller.set_fit_request(sample_weight=True).set_score_request(
            sample_weight=True
        )
        scores = cross_val_score(routed, X, y, cv=3, params={"sample_weight": weight})
    assert np.all(scores > 0.8)


def test_the_users_weights_are_not_changed():
    X, y = scaled_wine()
    weight = np.random.RandomState(5).uniform(0, 2, size=len(y))
    before = weight.copy()
    TemperatureScheduledDistiller(
        LogisticRegression(C=0.1), LogisticRegression(), augment=0.5, cv=3
    ).fit(X, y, sample_weight=weight)
    assert_array_equal(weight, before)


@pytest.mark.parametrize(
    "teacher, student, message",
    [
        (KNeighborsClassifier(), None, "teacher KNeighborsClassifier.fit takes no"),
        (None, KNeighborsClassifier(), "student KNeighborsClassifier.fit takes no"),
        # Calibration would only warn, and fit the kNN without the weights.
        (
            CalibratedClassifierCV(KNeighborsClassifier()),
            None,
            "teacher CalibratedClassifierCV fits a KNeighborsClassifier, whose fit "
            "takes no sample_weight",
        ),
        (
            None,
            make_pipeline(
                StandardScaler(), CalibratedClassifierCV(KNeighborsClassifier())
            ),
            "student Pipeline fits a KNeighborsClassifier, whose fit takes no",
        ),
        (
            AttentionMultiTeacherClassifier(
                [("logistic", LogisticRegression()), ("knn", KNeighborsClassifier())]
            ),
            None,
            "Teacher 'knn': .*KNeighborsClassifier.fit takes no sample_weight",
        ),
    ],
)
def test_models_without_weights_are_refused_before_any_fit(teacher, student, message):
    X, y = scaled_wine()
    distiller = TemperatureScheduledDistiller(teacher, student)
    with pytest.raises(ValueError, match=message):
        distiller.fit(X, y, sample_weight=np.ones(len(y)))
    assert not hasattr(distiller, "teacher_")


def test_a_frozen_teacher_without_weights_is_fine():
    X, y = scaled_wine()
    teacher = FrozenEstimator(KNeighborsClassifier().fit(X, y))
    distiller = TemperatureScheduledDistiller(teacher, LogisticRegression())
    distiller.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    assert distiller.predict(X).shape == y.shape


@pytest.mark.parametrize("weight, message", BAD_WEIGHTS)
def test_bad_weights_get_scikit_learns_errors(weight, message):
    X, y = scaled_wine()
    with pytest.raises(ValueError, match=message):
        TemperatureScheduledDistiller().fit(X, y, sample_weight=weight)


@pytest.mark.parametrize(
    "make, library, student",
    [
        (
            lambda: TemperatureScheduledDistiller(
                LogisticRegression(), XGBClassifier(n_estimators=3)
            ),
            "XGBoost",
            "XGBClassifier",
        ),
        (
            lambda: TemperatureScheduledDistiller(
                LogisticRegression(), LGBMClassifier(n_estimators=3, verbose=-1)
            ),
            "LightGBM",
            "LGBMClassifier",
        ),
        (
            lambda: HPMKDClassifier(
                LogisticRegression(), students=["xgboost"], budget=1, random_state=0
            ),
            "XGBoost",
            "XGBClassifier",
        ),
    ],
    ids=["xgboost", "lightgbm", "hpmkd"],
)
def test_a_weight_too_large_for_a_boosted_student_is_named(make, library, student):
    """XGBoost refused it in a C++ error and LightGBM took it as inf."""
    X, y = scaled_wine()
    weight = np.ones(len(y))
    largest = float(np.finfo(np.float32).max)
    weight[[4, 7]] = 1e39, np.nextafter(largest, np.inf)
    message = (
        r"sample_weight holds 2 weight\(s\) above 3.4028234663852886e\+38, the "
        r"largest float32 \(the largest: 1e\+39\); the "
        rf"{library} student {student} holds row weights as float32"
    )
    with pytest.raises(ValueError, match=message):
        make().fit(X, y, sample_weight=weight)
    # The largest float32 itself is held as given (though XGBoost's sums may
    # still overflow with it, which no bound on a single weight prevents).
    check_booster_weights(np.array([1.0, largest]), XGBClassifier(), "XGBoost")


@pytest.mark.parametrize(
    "make, fitted",
    [
        (
            lambda cv, X, y: TemperatureScheduledDistiller(
                LogisticRegression(), DecisionTreeClassifier(), cv=cv
            ),
            "the teacher",
        ),
        (
            lambda cv, X, y: AttentionMultiTeacherClassifier(
                [("lr", LogisticRegression()), ("dt", DecisionTreeClassifier())], cv=cv
            ),
            "the teachers",
        ),
        (
            # A frozen teacher is not cross-fitted: the steps' folds are checked.
            lambda cv, X, y: ProgressiveChainClassifier(
                [("dt", DecisionTreeClassifier())], teacher=_frozen_teacher(X, y), cv=cv
            ),
            "the steps",
        ),
        (
            lambda cv, X, y: HPMKDClassifier(
                LogisticRegression(), students=["dt"], budget=2, cv=cv
            ),
            "the teacher",
        ),
    ],
    ids=["distiller", "fused", "chain", "hpmkd"],
)
def test_a_fold_whose_training_rows_all_weigh_nothing_is_named(make, fitted):
    X, y = scaled_wine()
    halves = [np.arange(0, len(y), 2), np.arange(1, len(y), 2)]
    cv = [(halves[1], halves[0]), (halves[0], halves[1])]
    weight = np.ones(len(y))
    weight[halves[0]] = 0.0  # the training rows of the second fold
    message = (
        r"Every one of the 89 training rows of cross-validation fold 2 \(of 2\) has "
        rf"sample_weight 0, so {fitted} cannot be fitted on it"
    )
    with pytest.raises(ValueError, match=message):
        make(cv, X, y).fit(X, y, sample_weight=weight)


def test_weights_equal_repeated_rows_under_scikit_learns_check():
    """scikit-learn's own check, whose cv groups keep a row's copies in one
    fold: a cross-fitted teacher gives the same student either way."""
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(), DecisionTreeClassifier(max_depth=4), cv=3
    )
    check_sample_weight_equivalence_on_dense_data(
        "TemperatureScheduledDistiller", distiller
    )


def test_rows_of_weight_zero_do_not_lower_the_weight_of_unlabelled_rows():
    # Each row of X_unlabeled weighs the mean weight of the rows of positive
    # weight; rows of weight 0, appended or not, change nothing.
    X, y = load_breast_cancer(return_X_y=True)
    X_lab, y_lab, X_unlabeled = X[:80], y[:80], X[80:200]
    teacher = FrozenEstimator(
        make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    )
    student = make_pipeline(StandardScaler(), LogisticRegression())
    weights = np.ones(len(y_lab))
    alone = TemperatureScheduledDistiller(teacher, student, alpha=0.2).fit(
        X_lab, y_lab, X_unlabeled=X_unlabeled, sample_weight=weights
    )
    padded = TemperatureScheduledDistiller(teacher, student, alpha=0.2).fit(
        np.vstack([X_lab, X_lab[:40]]),
        np.concatenate([y_lab, y_lab[:40]]),
        X_unlabeled=X_unlabeled,
        sample_weight=np.concatenate([weights, np.zeros(40)]),
    )
    assert_allclose(padded.predict_proba(X), alone.predict_proba(X), atol=1e-12)


@pytest.mark.parametrize("routing", [False, True])
def test_a_search_as_student_learns_the_soft_targets(routing):
    # A search hands sample_weight on to its estimator, so it learns the
    # duplicated rows' weights as its estimator would, routed or not.
    X, y = scaled_wine()
    grid = {"C": [0.01, 1.0]}
    with config_context(enable_metadata_routing=routing), warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        searched = TemperatureScheduledDistiller(
            _frozen_teacher(X, y),
            GridSearchCV(LogisticRegression(max_iter=5000), grid, cv=3),
            random_state=0,
        ).fit(X, y)
        best = searched.student_.best_params_["C"]
        direct = TemperatureScheduledDistiller(
            _frozen_teacher(X, y),
            LogisticRegression(C=best, max_iter=5000),
            random_state=0,
        ).fit(X, y)
    assert_allclose(searched.predict_proba(X), direct.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("routing", [False, True])
def test_a_search_as_teacher_takes_the_weights(routing):
    X, y = scaled_wine()
    weights = np.random.RandomState(0).uniform(0.1, 3, len(y))
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [2, 4]})
    with config_context(enable_metadata_routing=routing):
        fitted = TemperatureScheduledDistiller(
            search, DecisionTreeClassifier(max_depth=2), cv=3, random_state=0
        ).fit(X, y, sample_weight=weights)
        unweighted = TemperatureScheduledDistiller(
            search, DecisionTreeClassifier(max_depth=2), cv=3, random_state=0
        ).fit(X, y)
    assert not np.allclose(
        fitted.teacher_.predict_proba(X), unweighted.teacher_.predict_proba(X)
    )


@pytest.mark.parametrize(
    "scoring", [None, "accuracy", ["accuracy", "neg_log_loss"]], ids=str
)
def test_a_search_inside_a_student_scores_its_candidates_under_routing(scoring):
    # The search routes the duplicated rows' weights to its scorer too; a
    # scorer that had not requested them failed, and every candidate
    # scored NaN.
    X, y = scaled_wine()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": [1e-4, 1.0]},
        scoring=scoring,
        refit="accuracy" if isinstance(scoring, list) else True,
        cv=3,
    )
    with config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        distiller = TemperatureScheduledDistiller(
            _frozen_teacher(X, y),
            CalibratedClassifierCV(search, cv=2),
            random_state=0,
        ).fit(X, y)
    fitted = distiller.student_.calibrated_classifiers_[0].estimator
    key = "mean_test_accuracy" if isinstance(scoring, list) else "mean_test_score"
    assert np.isfinite(fitted.cv_results_[key]).all()
    assert fitted.best_params_ == {"logisticregression__C": 1.0}
    # The user's search is left as it was.
    assert search.get_params()["scoring"] == scoring
