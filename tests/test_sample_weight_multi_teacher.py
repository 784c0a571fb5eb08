"""Row weights in AttentionMultiTeacherClassifier: teachers, attention, weights."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import skhpmkd._teachers
from skhpmkd import AttentionMultiTeacherClassifier, TemperatureScheduledDistiller
from skhpmkd._attention import (
    _attention_objective,
    attention_weights,
    camkd_weights,
    fit_attention,
    fuse,
    teacher_features,
    teacher_performance,
)
from tests._helpers import (
    BAD_WEIGHTS,
    assert_routed_cross_validation_weighs,
    scaled_wine,
    weighted_out_of_fold_proba,
)

WEIGHTINGS = ["attention", "uniform", "camkd", "entropy"]


def _teachers():
    return [
        ("logistic", LogisticRegression(C=0.1)),
        ("tree", DecisionTreeClassifier(max_depth=2)),
        ("bayes", GaussianNB()),
    ]


def _frozen_teachers(X, y):
    """Teachers fitted on the first rows only, so that they differ."""
    fits = [estimator.fit(X[::2], y[::2]) for _, estimator in _teachers()]
    return [(name, FrozenEstimator(fit)) for (name, _), fit in zip(_teachers(), fits)]


def _row_log_loss(proba, y):
    """``-log p(y | x)`` of each row, clipped at 1e-12 as the estimator does."""
    return -np.log(np.clip(proba[np.arange(len(y)), y], 1e-12, None))


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_unit_weights_change_nothing(weighting):
    X, y = scaled_wine()
    models = [
        AttentionMultiTeacherClassifier(
            _teachers(), weighting=weighting, cv=3, random_state=0
        )
        for _ in range(2)
    ]
    targets = models[0].fit_transform(X, y)
    weighted_targets = models[1].fit_transform(X, y, sample_weight=np.ones(len(y)))
    assert_allclose(weighted_targets, targets)
    assert_allclose(models[1].predict_proba(X), models[0].predict_proba(X))
    assert_allclose(models[1].teacher_weights_, models[0].teacher_weights_)


@pytest.mark.parametrize("weighting", ["attention", "camkd", "entropy"])
def test_integer_weights_equal_repeated_rows(weighting):
    """Frozen teachers: no fold split differs, so a row of weight k is k rows."""
    X, y = scaled_wine()
    repeats = np.random.RandomState(0).randint(1, 4, size=len(y))
    model = AttentionMultiTeacherClassifier(_frozen_teachers(X, y), weighting=weighting)
    weighted = clone(model).fit(X, y, sample_weight=repeats)
    repeated = clone(model).fit(np.repeat(X, repeats, axis=0), np.repeat(y, repeats))
    unweighted = clone(model).fit(X, y)
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6)
    assert_allclose(weighted.teacher_log_loss_, repeated.teacher_log_loss_)
    assert_allclose(weighted.teacher_weights_, repeated.teacher_weights_, atol=1e-6)
    assert not np.allclose(weighted.teacher_weights_, unweighted.teacher_weights_)


@pytest.mark.parametrize("weighting", ["attention", "camkd"])
def test_zero_weights_equal_dropped_rows(weighting):
    X, y = scaled_wine()
    weight = np.ones(len(y))
    weight[::3] = 0
    kept = weight > 0
    model = AttentionMultiTeacherClassifier(_frozen_teachers(X, y), weighting=weighting)
    weighted = clone(model).fit(X, y, sample_weight=weight)
    dropped = clone(model).fit(X[kept], y[kept])
    assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), atol=1e-6)
    assert_allclose(weighted.teacher_log_loss_, dropped.teacher_log_loss_)


def test_every_teacher_fold_is_fitted_with_its_rows_weights():
    X, y = scaled_wine()
    weight = np.random.RandomState(0).uniform(0.1, 5, size=len(y))
    cv = StratifiedKFold(3)
    strengths = {"strong": 0.05, "weak": 1.0}
    teachers = [(name, LogisticRegression(C=C)) for name, C in strengths.items()]
    model = AttentionMultiTeacherClassifier(teachers, weighting="uniform", cv=cv)
    targets = model.fit_transform(X, y, sample_weight=weight)

    expected = np.zeros((len(strengths), len(y), 3))
    for index, C in enumerate(strengths.values()):
        expected[index] = weighted_out_of_fold_proba(
            LogisticRegression(C=C), X, y, weight, cv
        )
        full = LogisticRegression(C=C).fit(X, y, sample_weight=weight)
        assert_allclose(model.teachers_[index].coef_, full.coef_, atol=1e-5)
    assert_allclose(targets, expected.mean(axis=0), atol=1e-6)
    log_loss = [np.average(_row_log_loss(p, y), weights=weight) for p in expected]
    assert_allclose(model.teacher_log_loss_, log_loss, rtol=1e-6)

    camkd = clone(model).set_params(weighting="camkd")
    targets = camkd.fit_transform(X, y, sample_weight=weight)
    row_weights = camkd_weights(expected, y)
    assert_allclose(targets, fuse(expected, row_weights), atol=1e-6)
    assert_allclose(
        camkd.teacher_weights_,
        np.average(row_weights, axis=0, weights=weight),
        rtol=1e-6,
    )


def test_learned_quantities_are_weighted_means():
    """With frozen teachers the out-of-fold probabilities are ``teacher_proba``."""
    X, y = scaled_wine()
    weight = np.random.RandomState(1).uniform(0, 3, size=len(y))
    model = AttentionMultiTeacherClassifier(_frozen_teachers(X, y), attention_l2=1e-3)
    model.fit(X, y, sample_weight=weight)
    probas = model.teacher_proba(X)
    log_loss = [np.average(_row_log_loss(p, y), weights=weight) for p in probas]
    assert_allclose(model.teacher_log_loss_, log_loss)

    features = teacher_features(probas, -model.teacher_log_loss_)
    attention = fit_attention(features, probas, y, l2=1e-3, sample_weight=weight)
    assert_array_equal(model.attention_, attention)
    row_weights = attention_weights(features, attention)
    assert_allclose(
        model.teacher_weights_, np.average(row_weights, axis=0, weights=weight)
    )
    unweighted = fit_attention(features, probas, y, l2=1e-3)
    assert not np.allclose(attention, unweighted, atol=1e-3)


def _random_task(seed, n_teachers=3, n_samples=60, n_classes=3):
    rng = np.random.RandomState(seed)
    probas = rng.dirichlet(np.ones(n_classes) * 0.5, size=(n_teachers, n_samples))
    y = rng.randint(n_classes, size=n_samples)
    return probas, y, rng


def test_weighted_teacher_performance_is_the_weighted_log_loss():
    probas, y, rng = _random_task(0)
    weight = rng.uniform(0, 2, size=len(y))
    expected = [-np.average(_row_log_loss(p, y), weights=weight) for p in probas]
    assert_allclose(teacher_performance(probas, y, weight), expected)
    assert_allclose(
        teacher_performance(probas, y, np.ones(len(y))),
        [-np.mean(_row_log_loss(p, y)) for p in probas],
    )


def test_weighted_attention_objective_and_its_gradient():
    probas, y, rng = _random_task(1)
    weight = rng.uniform(0, 3, size=len(y))
    weight[:10] = 0
    share = weight / weight.sum()
    features = teacher_features(probas, teacher_performance(probas, y, weight))
    true_proba = probas[:, np.arange(len(y)), y].T
    attention = rng.normal(size=features.shape[-1])

    value, _ = _attention_objective(attention, features, true_proba, 0.1, share)
    fused = fuse(probas, attention_weights(features, attention))
    expected = np.average(_row_log_loss(fused, y), weights=weight)
    assert_allclose(value, expected + 0.1 * attention @ attention)

    def loss(a):
        return _attention_objective(a, features, true_proba, 0.1, share)[0]

    def gradient(a):
        return _attention_objective(a, features, true_proba, 0.1, share)[1]

    assert check_grad(loss, gradient, attention) < 1e-5


def test_weighted_attention_equals_attention_on_repeated_rows():
    probas, y, rng = _random_task(2)
    repeats = rng.randint(0, 4, size=len(y))
    features = teacher_features(probas, teacher_performance(probas, y, repeats))
    weighted = fit_attention(features, probas, y, l2=1e-3, sample_weight=repeats)
    repeated = fit_attention(
        np.repeat(features, repeats, axis=0),
        np.repeat(probas, repeats, axis=1),
        np.repeat(y, repeats),
        l2=1e-3,
    )
    assert_allclose(weighted, repeated, atol=1e-6)
    assert not np.allclose(weighted, fit_attention(features, probas, y, l2=1e-3))


def test_whole_teachers_are_fitted_with_the_weights():
    """Out-of-bag forests and skhpmkd teachers are fitted as one job each."""
    X, y = scaled_wine()
    weight = np.random.RandomState(3).uniform(0.5, 2, size=len(y))
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(C=0.1), LogisticRegression(), cv=3, random_state=0
    )
    model = AttentionMultiTeacherClassifier(
        [("forest", forest), ("distiller", distiller)], weighting="uniform"
    )
    targets = model.fit_transform(X, y, sample_weight=weight)

    oob = clone(forest).set_params(oob_score=True).fit(X, y, sample_weight=weight)
    # Every row is out of the bag of some tree: no row needs a second fit.
    assert_allclose(oob.oob_decision_function_.sum(axis=1), 1.0)
    probas = np.stack(
        [
            oob.oob_decision_function_,
            clone(distiller).fit_transform(X, y, sample_weight=weight),
        ]
    )
    assert_allclose(targets, probas.mean(axis=0), atol=1e-9)
    log_loss = [np.average(_row_log_loss(p, y), weights=weight) for p in probas]
    assert_allclose(model.teacher_log_loss_, log_loss, rtol=1e-6)


def test_teachers_without_weights_are_refused_before_any_fit(monkeypatch):
    fits = []
    fit_weighted = skhpmkd._teachers.fit_weighted

    def counted(*args, **kwargs):
        fits.append(1)
        return fit_weighted(*args, **kwargs)

    monkeypatch.setattr(skhpmkd._teachers, "fit_weighted", counted)
    X, y = scaled_wine()
    teachers = [("logistic", LogisticRegression()), ("knn", KNeighborsClassifier())]
    model = AttentionMultiTeacherClassifier(teachers, cv=3)
    with pytest.raises(
        ValueError, match="Teacher 'knn'.*KNeighborsClassifier.fit takes no"
    ):
        model.fit(X, y, sample_weight=np.ones(len(y)))
    assert not fits
    assert not hasattr(model, "teachers_")


def test_frozen_and_dropped_teachers_without_weights_are_fine():
    X, y = scaled_wine()
    teachers = [
        ("logistic", LogisticRegression()),
        ("frozen", FrozenEstimator(KNeighborsClassifier().fit(X, y))),
        ("knn", KNeighborsClassifier()),
    ]
    model = AttentionMultiTeacherClassifier(teachers, cv=3).set_params(knn="drop")
    model.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    assert model.teacher_names_ == ["logistic", "frozen"]


def test_a_distiller_passes_its_weights_to_the_fused_teachers():
    X, y = scaled_wine()
    weight = np.random.RandomState(4).uniform(0.5, 2, size=len(y))
    fused = AttentionMultiTeacherClassifier(_teachers(), cv=3, random_state=0)
    distiller = TemperatureScheduledDistiller(fused, LogisticRegression(), cv=3)
    distiller.fit(X, y, sample_weight=weight)
    alone = clone(fused).fit(X, y, sample_weight=weight)
    assert_allclose(distiller.teacher_.teacher_log_loss_, alone.teacher_log_loss_)
    assert_allclose(distiller.teacher_.attention_, alone.attention_)


def test_memory_keys_on_the_weights(tmp_path):
    X, y = scaled_wine()
    weight = np.random.RandomState(5).uniform(0.1, 3, size=len(y))
    model = AttentionMultiTeacherClassifier(
        _teachers(), cv=3, memory=str(tmp_path), random_state=0
    )
    unweighted = clone(model).fit(X, y)
    weighted = clone(model).fit(X, y, sample_weight=weight)
    again = clone(model).fit(X, y, sample_weight=weight)
    assert len(list(tmp_path.rglob("output.pkl"))) == 2
    uncached = clone(model).set_params(memory=None).fit(X, y, sample_weight=weight)
    assert_allclose(weighted.teacher_log_loss_, uncached.teacher_log_loss_)
    assert_allclose(again.teacher_log_loss_, uncached.teacher_log_loss_)
    assert not np.allclose(weighted.teacher_log_loss_, unweighted.teacher_log_loss_)


def test_search_and_cross_validation_pass_the_weights():
    X, y = scaled_wine()
    weight = np.random.RandomState(6).uniform(0.5, 2, size=len(y))
    model = AttentionMultiTeacherClassifier(_teachers(), cv=3, random_state=0)
    search = GridSearchCV(model, {"weighting": ["uniform", "attention"]}, cv=3)
    search.fit(X, y, sample_weight=weight)
    best = search.best_estimator_
    direct = clone(best).fit(X, y, sample_weight=weight)
    assert_allclose(best.teacher_log_loss_, direct.teacher_log_loss_)
    assert_allclose(best.predict_proba(X), direct.predict_proba(X))
    unweighted = clone(best).fit(X, y)
    assert not np.allclose(unweighted.teacher_log_loss_, direct.teacher_log_loss_)

    assert_routed_cross_validation_weighs(model, X, y, weight)


def test_the_users_weights_are_not_changed():
    X, y = scaled_wine()
    weight = np.random.RandomState(7).uniform(0, 2, size=len(y))
    before = weight.copy()
    AttentionMultiTeacherClassifier(_teachers(), cv=3).fit(X, y, sample_weight=weight)
    assert_array_equal(weight, before)


@pytest.mark.parametrize("weight, message", BAD_WEIGHTS)
def test_bad_weights_get_scikit_learns_errors(weight, message):
    X, y = scaled_wine()
    model = AttentionMultiTeacherClassifier(_teachers(), cv=3)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, sample_weight=weight)
    assert not hasattr(model, "teachers_")
