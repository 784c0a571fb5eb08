"""Row weights in ProgressiveChainClassifier: teacher, every step, every fold."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import ProgressiveChainClassifier
from skhpmkd._soft_targets import fit_soft_student
from skhpmkd.metrics import kl_divergence, top1_agreement
from tests._helpers import (
    BAD_WEIGHTS,
    assert_routed_cross_validation_weighs,
    scaled_wine,
    weighted_out_of_fold_proba,
)


def _frozen_teacher(X, y):
    return FrozenEstimator(LogisticRegression(C=0.1).fit(X, y))


def _two_steps():
    return [
        ("assistant", DecisionTreeClassifier(max_depth=4)),
        ("student", LogisticRegression()),
    ]


def _mapped_splits(splits, index):
    """``splits`` of the original rows, for rows that are ``index`` of them."""
    return [
        (np.flatnonzero(np.isin(index, train)), np.flatnonzero(np.isin(index, test)))
        for train, test in splits
    ]


@pytest.mark.parametrize("steps", ["auto", "fixed"])
def test_unit_weights_change_nothing(steps):
    X, y = scaled_wine()
    params = dict(auto_student=DecisionTreeClassifier(max_depth=2))
    if steps == "fixed":
        params = dict(steps=_two_steps(), temperature=2.0)
    chains = [
        ProgressiveChainClassifier(
            teacher=LogisticRegression(C=0.1), random_state=0, **params
        )
        for _ in range(2)
    ]
    unweighted_oof = chains[0].fit_transform(X, y)
    weighted_oof = chains[1].fit_transform(X, y, sample_weight=np.ones(len(y)))
    assert_allclose(weighted_oof, unweighted_oof)
    assert_allclose(chains[1].predict_proba(X), chains[0].predict_proba(X))
    assert chains[1].trials_ == chains[0].trials_
    if steps == "auto":
        assert chains[0].trials_


@pytest.mark.parametrize(
    "student", [LogisticRegression(), DecisionTreeClassifier(max_depth=4)]
)
def test_integer_weights_equal_repeated_rows_for_the_final_student(student):
    """The student fitted on all rows learns the frozen teacher's targets,
    which no fold split changes: a row of weight k counts as k copies."""
    X, y = scaled_wine()
    repeats = np.random.RandomState(0).randint(1, 4, size=len(y))

    def chain():
        return ProgressiveChainClassifier(
            [("student", clone(student))],
            teacher=_frozen_teacher(X, y),
            temperature=2.0,
            alpha=0.6,
            random_state=0,
        )

    weighted = chain().fit(X, y, sample_weight=repeats)
    repeated = chain().fit(np.repeat(X, repeats, axis=0), np.repeat(y, repeats))
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-5)


def test_zero_weights_equal_dropped_rows_for_the_final_student():
    X, y = scaled_wine()
    weight = np.ones(len(y))
    weight[::3] = 0
    kept = weight > 0

    def chain():
        return ProgressiveChainClassifier(
            [("student", LogisticRegression())],
            teacher=_frozen_teacher(X, y),
            temperature=3.0,
            random_state=0,
        )

    weighted = chain().fit(X, y, sample_weight=weight)
    dropped = chain().fit(X[kept], y[kept])
    assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("rows", ["repeated", "dropped"])
def test_weighted_chain_equals_the_chain_of_repeated_or_dropped_rows(rows):
    """With every fold holding a row's copies (or not holding the dropped
    rows), the teacher, each step and each fold learn the same: the
    out-of-fold probabilities and the student match. (Logistic steps: trees
    can break a tie between two equally good splits otherwise.)"""
    X, y = scaled_wine()
    rng = np.random.RandomState(1)
    if rows == "repeated":
        weight = rng.randint(1, 4, size=len(y))
        index = np.repeat(np.arange(len(y)), weight)
    else:
        weight = (rng.uniform(size=len(y)) > 0.3).astype(int)
        index = np.flatnonzero(weight)
    splits = list(StratifiedKFold(3).split(X, y))

    def chain(cv):
        steps = [
            ("assistant", LogisticRegression(C=10.0)),
            ("student", LogisticRegression()),
        ]
        return ProgressiveChainClassifier(
            steps, teacher=LogisticRegression(C=0.1), cv=cv, temperature=2.0
        )

    weighted = chain(splits)
    weighted_oof = weighted.fit_transform(X, y, sample_weight=weight)
    plain = chain(_mapped_splits(splits, index))
    plain_oof = plain.fit_transform(X[index], y[index])
    assert_allclose(weighted_oof[index], plain_oof, atol=1e-5)
    assert_allclose(weighted.predict_proba(X), plain.predict_proba(X), atol=1e-5)


def test_auto_student_learns_with_the_weights():
    X, y = scaled_wine()
    repeats = np.random.RandomState(2).randint(1, 4, size=len(y))
    index = np.repeat(np.arange(len(y)), repeats)
    splits = list(StratifiedKFold(3).split(X, y))

    def chain(cv):
        return ProgressiveChainClassifier(
            teacher=LogisticRegression(C=0.1),
            auto_student=LogisticRegression(),
            max_assistants=0,
            cv=cv,
        )

    weighted = chain(splits).fit(X, y, sample_weight=repeats)
    repeated = chain(_mapped_splits(splits, index)).fit(X[index], y[index])
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-5)


def test_auto_assistants_learn_with_the_weights():
    """The assistant steps='auto' tries is distilled as the same chain given
    as a list of steps: its student's agreement is the trial's."""
    X, y = scaled_wine()
    weight = np.random.RandomState(7).uniform(0, 1, size=len(y)) ** 3
    student = DecisionTreeClassifier(max_depth=1, random_state=0)
    auto = ProgressiveChainClassifier(
        teacher=LogisticRegression(C=0.1),
        auto_student=student,
        max_assistants=1,
        fidelity_gap=0.0,
    ).fit(X, y, sample_weight=weight)
    (trial,) = auto.trials_
    assert trial["position"] == 0
    steps = [
        ("assistant_1", clone(student).set_params(**trial["params"])),
        ("student", student),
    ]
    chain = ProgressiveChainClassifier(steps, teacher=LogisticRegression(C=0.1))
    chain.fit(X, y, sample_weight=weight)
    assert trial["after"] == chain.stages_[-1]["agreement"]
    unweighted = clone(chain).fit(X, y)
    assert trial["after"] != unweighted.stages_[-1]["agreement"]


def test_every_teacher_fold_is_fitted_with_its_rows_weights():
    """A fully grown tree on the soft targets alone (alpha=1) reproduces the
    teacher's out-of-fold targets, row by row."""
    X, y = scaled_wine()
    weight = np.random.RandomState(0).uniform(0.1, 5, size=len(y))
    cv = StratifiedKFold(3)
    chain = ProgressiveChainClassifier(
        [("student", DecisionTreeClassifier())],
        teacher=LogisticRegression(C=0.05),
        alpha=1.0,
        cv=cv,
    ).fit(X, y, sample_weight=weight)

    expected = weighted_out_of_fold_proba(LogisticRegression(C=0.05), X, y, weight, cv)
    assert_allclose(chain.student_.predict_proba(X), expected, atol=1e-6)
    full = LogisticRegression(C=0.05).fit(X, y, sample_weight=weight)
    assert_allclose(chain.teacher_.coef_, full.coef_, atol=1e-5)
    assert chain.teacher_accuracy_ == np.mean(np.argmax(expected, axis=1) == y)


def test_every_step_and_fold_is_distilled_with_its_rows_weights():
    X, y = scaled_wine()
    weight = np.random.RandomState(3).uniform(0, 4, size=len(y))
    teacher = _frozen_teacher(X, y)
    cv = StratifiedKFold(3)
    settings = dict(alpha=0.7, temperature=2.0)
    steps = [
        ("assistant", LogisticRegression(C=10.0)),
        ("student", LogisticRegression(C=0.1)),
    ]
    chain = ProgressiveChainClassifier(steps, teacher=teacher, cv=cv, **settings)
    oof = chain.fit_transform(X, y, sample_weight=weight)

    def distil(step, targets, rows):
        return fit_soft_student(
            clone(step),
            X[rows],
            targets[rows],
            y[rows],
            np.arange(3),
            sample_weight=weight[rows],
            **settings,
        )[0]

    targets = teacher.predict_proba(X)
    for _, step in steps:
        previous, targets = targets, np.zeros_like(targets)
        for train, test in cv.split(X, y):
            targets[test] = distil(step, previous, train).predict_proba(X[test])
    assert_allclose(oof, targets, atol=1e-6)
    student = distil(steps[-1][1], previous, slice(None))
    assert_allclose(chain.student_.coef_, student.coef_, atol=1e-5)


def test_reports_count_rows_not_weights():
    X, y = scaled_wine()
    weight = np.random.RandomState(4).uniform(0, 1, size=len(y)) ** 4
    teacher = _frozen_teacher(X, y)
    chain = ProgressiveChainClassifier(
        [("student", DecisionTreeClassifier(max_depth=1))], teacher=teacher
    )
    oof = chain.fit_transform(X, y, sample_weight=weight)
    teacher_proba = teacher.predict_proba(X)
    correct = np.argmax(oof, axis=1) == y
    stage = chain.stages_[0]
    assert stage["accuracy"] == np.mean(correct)
    assert not np.isclose(stage["accuracy"], np.average(correct, weights=weight))
    assert stage["agreement"] == top1_agreement(teacher_proba, oof)
    assert stage["agreement_previous"] == stage["agreement"]
    assert stage["kl"] == pytest.approx(kl_divergence(teacher_proba, oof))
    assert chain.fidelity_ == {"agreement": stage["agreement"], "kl": stage["kl"]}
    assert chain.teacher_accuracy_ == np.mean(np.argmax(teacher_proba, axis=1) == y)


def test_search_and_cross_validation_pass_the_weights():
    X, y = scaled_wine()
    weight = np.random.RandomState(5).uniform(0.2, 3, size=len(y))
    chain = ProgressiveChainClassifier(
        [("student", LogisticRegression())], teacher=LogisticRegression(C=0.1)
    )
    search = GridSearchCV(chain, {"alpha": [0.2, 0.8]}, cv=3)
    search.fit(X, y, sample_weight=weight)
    best = search.best_estimator_
    direct = clone(best).fit(X, y, sample_weight=weight).predict_proba(X)
    assert_allclose(best.predict_proba(X), direct)
    assert not np.allclose(clone(best).fit(X, y).predict_proba(X), direct, atol=1e-3)

    assert_routed_cross_validation_weighs(chain, X, y, weight)


def test_the_users_weights_are_not_changed():
    X, y = scaled_wine()
    weight = np.random.RandomState(6).uniform(0, 2, size=len(y))
    before = weight.copy()
    ProgressiveChainClassifier(_two_steps(), teacher=LogisticRegression(C=0.1)).fit(
        X, y, sample_weight=weight
    )
    assert_array_equal(weight, before)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            dict(teacher=KNeighborsClassifier()),
            "teacher KNeighborsClassifier.fit takes no",
        ),
        (
            # The teacher is checked first, before any step.
            dict(
                teacher=KNeighborsClassifier(),
                steps=[("student", KNeighborsClassifier())],
            ),
            "teacher KNeighborsClassifier.fit takes no",
        ),
        (
            dict(steps=[("assistant", KNeighborsClassifier()), *_two_steps()[1:]]),
            "Step 'assistant': .*KNeighborsClassifier.fit takes no sample_weight",
        ),
        (
            dict(steps=[*_two_steps()[:1], ("student", KNeighborsClassifier())]),
            "Step 'student': .*KNeighborsClassifier.fit takes no sample_weight",
        ),
        (
            dict(steps="auto", auto_student=KNeighborsClassifier()),
            "Step 'student': .*KNeighborsClassifier.fit takes no sample_weight",
        ),
    ],
)
def test_learners_without_weights_are_refused_before_any_fit(params, message):
    X, y = scaled_wine()
    defaults = dict(teacher=LogisticRegression(), steps=_two_steps())
    chain = ProgressiveChainClassifier(**{**defaults, **params})
    with pytest.raises(ValueError, match=message):
        chain.fit(X, y, sample_weight=np.ones(len(y)))
    assert not hasattr(chain, "teacher_")


def test_a_frozen_teacher_without_weights_is_fine():
    X, y = scaled_wine()
    teacher = FrozenEstimator(KNeighborsClassifier().fit(X, y))
    chain = ProgressiveChainClassifier(_two_steps(), teacher=teacher)
    chain.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    assert chain.predict(X).shape == y.shape


@pytest.mark.parametrize("weight, message", BAD_WEIGHTS)
def test_bad_weights_get_scikit_learns_errors(weight, message):
    X, y = scaled_wine()
    chain = ProgressiveChainClassifier(_two_steps(), teacher=LogisticRegression())
    with pytest.raises(ValueError, match=message):
        chain.fit(X, y, sample_weight=weight)
    assert not hasattr(chain, "teacher_")
