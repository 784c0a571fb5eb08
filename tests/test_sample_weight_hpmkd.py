"""Row weights in HPMKDClassifier: teacher, search, scores and refit."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import HPMKDClassifier, TemperatureScheduledDistiller
from skhpmkd._memory import load_records
from skhpmkd._search import evaluate_config
from skhpmkd._soft_targets import fit_soft_student
from tests._helpers import (
    BAD_WEIGHTS,
    assert_routed_cross_validation_weighs,
    scaled_wine,
    weighted_out_of_fold_proba,
)


def _weights(seed, n=178, low=0.2, high=3.0):
    return np.random.RandomState(seed).uniform(low, high, size=n)


def test_unit_weights_change_nothing():
    X, y = scaled_wine()

    def hpmkd():
        return HPMKDClassifier(
            LogisticRegression(C=0.1),
            students=["lr", "dt"],
            budget=3,
            augment=1.0,
            cv=3,
            random_state=0,
        )

    unweighted = hpmkd().fit(X, y)
    weighted = hpmkd().fit(X, y, sample_weight=np.ones(len(y)))
    assert weighted.best_params_ == unweighted.best_params_
    assert_allclose(
        weighted.search_results_["score"], unweighted.search_results_["score"]
    )
    assert_allclose(weighted.predict_proba(X), unweighted.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("use_chain", [False, True])
def test_the_refitted_student_is_the_weighted_distillers(use_chain):
    """With a frozen teacher and no transfer set, the deployed student is the
    one TemperatureScheduledDistiller fits with the same weights, T and alpha
    (through the chain too: a logistic student gets no assistants)."""
    X, y = scaled_wine()
    weight = _weights(0)
    teacher = FrozenEstimator(LogisticRegression(C=0.05).fit(X, y))
    student = LogisticRegression(C=0.5)
    hpmkd = HPMKDClassifier(
        teacher,
        students=[student],
        budget=3,
        augment=0,
        use_chain=use_chain,
        random_state=0,
    ).fit(X, y, sample_weight=weight)
    params = hpmkd.best_params_

    def distilled(sample_weight):
        return TemperatureScheduledDistiller(
            teacher,
            student,
            temperature=params["temperature"],
            alpha=params["alpha"],
        ).fit(X, y, sample_weight=sample_weight)

    assert_allclose(
        hpmkd.predict_proba(X), distilled(weight).predict_proba(X), atol=1e-6
    )
    # The weights matter: the unweighted student is another one.
    assert (
        np.abs(hpmkd.predict_proba(X) - distilled(None).predict_proba(X)).max() > 1e-3
    )


def test_the_search_fits_and_scores_with_the_weights():
    """One search fit, against its closed form: the weighted student and the
    weighted accuracy, log-loss and scorer of the held-out rows."""
    X, y = scaled_wine()
    rng = np.random.RandomState(1)
    order = rng.permutation(len(y))
    fit_rows, val_rows = order[:120], order[120:]
    targets = LogisticRegression(C=0.1).fit(X, y).predict_proba(X)
    w_fit, w_val = rng.uniform(0.1, 3, size=120), rng.uniform(0.1, 3, size=58)
    data = {
        "X_fit": X[fit_rows],
        "targets": targets[fit_rows],
        "y_fit": y[fit_rows],
        "n_train": 120,
        "X_val": X[val_rows],
        "y_val": y[val_rows],
        "val_targets": targets[val_rows],
        "classes": np.arange(3),
        "w_fit": w_fit,
        "w_val": w_val,
    }
    seen = []

    def weighted_accuracy(y_true, y_pred, sample_weight=None):
        seen.append(sample_weight)
        return accuracy_score(y_true, y_pred, sample_weight=sample_weight)

    scorer = make_scorer(weighted_accuracy)
    settings = {
        "scorer": scorer,
        "scoring": scorer,
        "schedule": False,
        "size_of": None,
        "max_size": None,
        "max_latency": None,
    }
    rows = np.arange(0, 120, 2)
    config = {"student": "lr", "size": None, "temperature": 2.0, "alpha": 0.7}
    stump = DecisionTreeClassifier(max_depth=1, random_state=0)
    result = evaluate_config(clone(stump), data, rows, config, 1.0, settings)

    expected, _ = fit_soft_student(
        stump,
        X[fit_rows][rows],
        targets[fit_rows][rows],
        y[fit_rows][rows],
        np.arange(3),
        alpha=0.7,
        temperature=2.0,
        final_temperature=1.0,
        sample_weight=w_fit[rows],
    )
    assert_allclose(
        result["model"].predict_proba(X[val_rows]), expected.predict_proba(X[val_rows])
    )
    proba = expected.predict_proba(X[val_rows])
    hits = np.argmax(proba, axis=1) == y[val_rows]
    assert result["accuracy"] == pytest.approx(np.average(hits, weights=w_val))
    assert result["accuracy"] != pytest.approx(np.mean(hits))
    assert result["log_loss"] == pytest.approx(
        log_loss(y[val_rows], proba, sample_weight=w_val)
    )
    assert result["log_loss"] != pytest.approx(log_loss(y[val_rows], proba))
    assert result["score"] == result["accuracy"]
    assert_array_equal(seen[0], w_val)


def test_the_teachers_are_fitted_with_the_weights():
    X, y = scaled_wine()
    weight = _weights(2)
    cv = StratifiedKFold(3)
    hpmkd = HPMKDClassifier(
        LogisticRegression(C=0.05), students=["dt"], budget=2, cv=cv, random_state=0
    )
    targets = hpmkd.fit_transform(X, y, sample_weight=weight)
    expected = weighted_out_of_fold_proba(LogisticRegression(C=0.05), X, y, weight, cv)
    assert_allclose(targets, expected, atol=1e-6)
    full = LogisticRegression(C=0.05).fit(X, y, sample_weight=weight)
    assert_allclose(hpmkd.teacher_.coef_, full.coef_, atol=1e-5)


def test_fused_teachers_get_the_weights():
    X, y = scaled_wine()
    weight = _weights(3)
    hpmkd = HPMKDClassifier(
        [("lr", LogisticRegression(C=0.05)), ("tree", DecisionTreeClassifier())],
        students=["dt"],
        budget=2,
        cv=3,
        random_state=0,
    ).fit(X, y, sample_weight=weight)
    full = LogisticRegression(C=0.05).fit(X, y, sample_weight=weight)
    assert_allclose(hpmkd.teacher_.named_teachers_["lr"].coef_, full.coef_, atol=1e-5)


def test_scaling_every_weight_changes_nothing():
    """Trees, weighted accuracy and weighted log-loss do not see a common
    factor of the weights: neither may the transfer rows, which weigh the
    mean weight (a factor of 4 scales the floats exactly)."""
    X, y = scaled_wine()
    weight = _weights(4)

    def fitted(sample_weight):
        return HPMKDClassifier(
            DecisionTreeClassifier(max_depth=4, random_state=0),
            students=["dt"],
            budget=3,
            augment=1.0,
            cv=3,
            random_state=0,
        ).fit(X, y, sample_weight=sample_weight)

    once, scaled = fitted(weight), fitted(4 * weight)
    assert once.best_params_ == scaled.best_params_
    assert_allclose(once.predict_proba(X), scaled.predict_proba(X))
    assert not np.allclose(once.predict_proba(X), fitted(None).predict_proba(X))


def test_the_teacher_cache_holds_the_weights(tmp_path):
    X, y = scaled_wine()
    weight = _weights(5)

    def fitted(sample_weight):
        return HPMKDClassifier(
            LogisticRegression(C=0.1),
            students=["dt"],
            budget=2,
            cv=3,
            memory=str(tmp_path),
            random_state=0,
        ).fit(X, y, sample_weight=sample_weight)

    assert fitted(weight).n_teacher_fits_ == 4
    assert fitted(weight).n_teacher_fits_ == 0
    assert fitted(2 * weight).n_teacher_fits_ == 4


def test_weighted_scores_are_remembered_as_another_scoring(tmp_path):
    """A weighted search's scores are not an unweighted search's: neither
    starts from the other's records."""
    X, y = scaled_wine()
    memory = tmp_path / "memory.json"

    def fitted(sample_weight):
        return HPMKDClassifier(
            LogisticRegression(C=0.1),
            students=["dt"],
            budget=2,
            cv=3,
            warm_start_memory=memory,
            random_state=0,
        ).fit(X, y, sample_weight=sample_weight)

    assert not fitted(_weights(9)).warm_started_
    scorings = {record["scoring"] for record in load_records(memory)}
    assert scorings == {"accuracy (weighted)"}
    assert not fitted(None).warm_started_
    assert fitted(_weights(9)).warm_started_
    assert fitted(None).warm_started_


def _no_weight_accuracy(estimator, X, y):
    return accuracy_score(y, estimator.predict(X))


def _unweighted_accuracy(y_true, y_pred):
    return accuracy_score(y_true, y_pred)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"teachers": KNeighborsClassifier()}, "teacher KNeighborsClassifier.fit"),
        ({"students": [KNeighborsClassifier()]}, "student KNeighborsClassifier.fit"),
        ({"scoring": _no_weight_accuracy}, "scoring=<function .* takes no sample_w"),
        ({"scoring": "adjusted_rand_score"}, "scoring='adjusted_rand_score' takes"),
        (
            {"scoring": make_scorer(_unweighted_accuracy)},
            r"scoring=make_scorer\(_unweighted_accuracy.* takes no sample_weight",
        ),
    ],
)
def test_models_without_weights_are_refused_before_any_fit(params, message):
    X, y = scaled_wine()
    hpmkd = HPMKDClassifier(**{"students": ["dt"], "budget": 2, **params})
    with pytest.raises(ValueError, match=message):
        hpmkd.fit(X, y, sample_weight=np.ones(len(y)))
    assert not hasattr(hpmkd, "teacher_")


def test_a_frozen_teacher_without_weights_is_fine():
    X, y = scaled_wine()
    teacher = FrozenEstimator(KNeighborsClassifier().fit(X, y))
    hpmkd = HPMKDClassifier(teacher, students=["dt"], budget=2, random_state=0)
    hpmkd.fit(X, y, sample_weight=_weights(6))
    assert hpmkd.score(X, y) > 0.8


class _UnfittableLogisticRegression(LogisticRegression):
    """A teacher whose fit must not be reached."""

    def fit(self, X, y, sample_weight=None):
        raise AssertionError("the teacher was fitted")


@pytest.mark.parametrize("part", ["fit", "held-out"])
def test_a_part_of_the_split_without_weight_is_refused_before_the_teacher(
    part, monkeypatch
):
    X, y = scaled_wine()
    split = []

    def recording_split(self, codes, rng):
        split.append(original_split(self, codes, rng))
        return split[-1]

    original_split = HPMKDClassifier._split
    monkeypatch.setattr(HPMKDClassifier, "_split", recording_split)
    params = dict(students=["dt"], budget=2, random_state=0)
    HPMKDClassifier(LogisticRegression(), **params).fit(X, y)
    fit_rows, val_rows = split[0]
    weight = np.ones(len(y))
    weight[fit_rows if part == "fit" else val_rows] = 0.0
    # Same parameters, so the same draws: the same split, refused before the
    # teacher's fit.
    hpmkd = HPMKDClassifier(_UnfittableLogisticRegression(), **params)
    message = rf"search's {len(fit_rows if part == 'fit' else val_rows)} {part} rows"
    with pytest.raises(ValueError, match=message):
        hpmkd.fit(X, y, sample_weight=weight)
    assert_array_equal(split[1][0], fit_rows)
    assert not hasattr(hpmkd, "teacher_")


def test_search_and_cross_validation_pass_the_weights():
    X, y = scaled_wine()
    weight = _weights(7)
    hpmkd = HPMKDClassifier(
        LogisticRegression(C=0.1), students=["lr"], budget=2, cv=3, random_state=0
    )
    search = GridSearchCV(hpmkd, {"augment": [0, 0.5]}, cv=3)
    search.fit(X, y, sample_weight=weight)
    best = search.best_estimator_
    direct = clone(best).fit(X, y, sample_weight=weight).predict_proba(X)
    assert_allclose(best.predict_proba(X), direct)
    assert not np.allclose(clone(best).fit(X, y).predict_proba(X), direct, atol=1e-3)

    assert_routed_cross_validation_weighs(hpmkd, X, y, weight)


def test_the_users_weights_are_not_changed():
    X, y = scaled_wine()
    weight = _weights(8, low=0.0)
    before = weight.copy()
    HPMKDClassifier(
        LogisticRegression(C=0.1), students=["dt"], budget=2, augment=0.5, cv=3
    ).fit(X, y, sample_weight=weight)
    assert_array_equal(weight, before)


@pytest.mark.parametrize("weight, message", BAD_WEIGHTS)
def test_bad_weights_get_scikit_learns_errors(weight, message):
    X, y = scaled_wine()
    hpmkd = HPMKDClassifier(students=["dt"], budget=2)
    with pytest.raises(ValueError, match=message):
        hpmkd.fit(X, y, sample_weight=weight)
    assert not hasattr(hpmkd, "teacher_")
