"""AttentionMultiTeacherClassifier: weightings, out-of-fold fusion, API and quality."""

import functools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    TemperatureScheduledDistiller,
)
from skhpmkd._attention import (
    _attention_objective,
    attention_weights,
    camkd_weights,
    entropy_weights,
    fit_attention,
    fuse,
    teacher_features,
    teacher_performance,
    uniform_weights,
)

WEIGHTINGS = ["uniform", "camkd", "entropy", "attention"]


def _teachers(shallow_depth=3):
    """Three deliberately different teachers."""
    return [
        ("tree", DecisionTreeClassifier(max_depth=shallow_depth, random_state=0)),
        ("logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))),
        (
            "boosting",
            HistGradientBoostingClassifier(
                max_iter=20, max_leaf_nodes=8, random_state=0
            ),
        ),
    ]


def _small_task(n_samples=240, n_classes=3, seed=0):
    return make_classification(
        n_samples=n_samples,
        n_features=8,
        n_informative=5,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )


def _quality_task(name):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
    else:
        X, y = make_classification(
            n_samples=800,
            n_features=12,
            n_informative=6,
            n_classes=4,
            n_clusters_per_class=2,
            random_state=0,
        )
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module", params=["four_class", "digits"])
def test_log_losses(request, tmp_path_factory):
    """Test log-loss of every weighting and of each single teacher.

    The teachers are fitted once: the later weightings find them in ``memory``.
    """
    X_train, X_test, y_train, y_test = _quality_task(request.param)
    memory = str(tmp_path_factory.mktemp("teachers"))
    losses = {}
    for weighting in WEIGHTINGS:
        # One OpenMP thread: on small data more threads only contend for cores.
        with threadpool_limits(limits=1):
            model = AttentionMultiTeacherClassifier(
                _teachers(), weighting=weighting, cv=3, memory=memory, random_state=0
            ).fit(X_train, y_train)
        losses[weighting] = log_loss(y_test, model.predict_proba(X_test))
    for name, teacher in model.named_teachers_.items():
        losses[name] = log_loss(y_test, teacher.predict_proba(X_test))
    return request.param, losses


def test_attention_beats_uniform_and_records_best_teacher(
    test_log_losses, record_property
):
    task, losses = test_log_losses
    best_single = min(losses[name] for name, _ in _teachers())
    for key, value in losses.items():
        record_property(f"{task}_{key}_log_loss", round(value, 4))
    record_property(
        f"{task}_attention_minus_best_teacher", losses["attention"] - best_single
    )
    assert losses["attention"] <= losses["uniform"]


def test_camkd_beats_vanilla_and_records_best_teacher(test_log_losses, record_property):
    task, losses = test_log_losses
    best_single = min(losses[name] for name, _ in _teachers())
    record_property(f"{task}_camkd_minus_best_teacher", losses["camkd"] - best_single)
    assert losses["camkd"] <= losses["uniform"]


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_fused_targets_are_distributions(weighting):
    X, y = _small_task()
    teachers = [
        ("tree", DecisionTreeClassifier(max_depth=3)),
        ("logistic", LogisticRegression()),
        ("bayes", GaussianNB()),
    ]
    model = AttentionMultiTeacherClassifier(
        teachers, weighting=weighting, cv=3, random_state=0
    )
    targets = model.fit_transform(X, y)
    assert targets.shape == (len(y), 3)
    assert_allclose(targets.sum(axis=1), 1.0)
    assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)
    assert_allclose(model.transform(X), model.predict_proba(X))
    assert_allclose(model.teacher_weights(X).sum(axis=1), 1.0)
    assert_allclose(model.teacher_weights_.sum(), 1.0)
    assert (model.attention_ is None) == (weighting != "attention")


def test_fit_transform_is_out_of_fold():
    X, y = _small_task()
    model = AttentionMultiTeacherClassifier(
        [("tree", DecisionTreeClassifier(random_state=0))], weighting="uniform", cv=3
    )
    out_of_fold = model.fit_transform(X, y)
    in_sample = model.transform(X)
    # An unpruned tree recalls every training label; out of fold it cannot.
    assert_array_equal(np.argmax(in_sample, axis=1), y)
    assert np.mean(np.argmax(out_of_fold, axis=1) != y) > 0.05


def test_columns_follow_classes_with_string_labels():
    X, y = _small_task()
    labels = np.array(["zebra", "ant", "moose"])[y]
    teachers = [("tree", DecisionTreeClassifier(max_depth=3)), ("nb", GaussianNB())]
    model = AttentionMultiTeacherClassifier(teachers, cv=3, random_state=0)
    targets = model.fit_transform(X, labels)
    assert_array_equal(model.classes_, ["ant", "moose", "zebra"])
    # Column j of the targets is the probability of classes_[j].
    codes = np.searchsorted(model.classes_, labels)
    assert np.mean(np.argmax(targets, axis=1) == codes) > 0.7
    assert set(model.predict(X)) <= set(labels)


def test_camkd_fusion_matches_the_formula_with_frozen_teachers():
    X, y = _small_task()
    fitted = [
        DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y),
        GaussianNB().fit(X, y),
        LogisticRegression(max_iter=500).fit(X, y),
    ]
    teachers = [(f"t{i}", FrozenEstimator(t)) for i, t in enumerate(fitted)]
    model = AttentionMultiTeacherClassifier(teachers, weighting="camkd")
    targets = model.fit_transform(X, y)

    probas = np.array([t.predict_proba(X) for t in fitted])
    cross_entropy = -np.log(np.clip(probas[:, np.arange(len(y)), y], 1e-12, None)).T
    scores = np.exp(cross_entropy) / np.exp(cross_entropy).sum(axis=1, keepdims=True)
    weights = (1 - scores) / 2
    expected = np.einsum("mnk,nm->nk", probas, weights)
    assert_allclose(targets, expected)
    # Label-free at predict time: the mean CAMKD weight of each teacher.
    assert_allclose(model.teacher_weights_, weights.mean(axis=0))
    expected_predict = np.einsum("mnk,m->nk", probas, weights.mean(axis=0))
    assert_allclose(model.predict_proba(X), expected_predict)


def test_weight_functions_by_hand():
    probas = np.array([[[0.9, 0.1]], [[0.5, 0.5]]])
    assert_allclose(uniform_weights(probas), [[0.5, 0.5]])
    entropy = np.array([-(0.9 * np.log(0.9) + 0.1 * np.log(0.1)), np.log(2)])
    expected = np.exp(-entropy) / np.exp(-entropy).sum()
    assert_allclose(entropy_weights(probas), [expected])
    cross_entropy = np.array([-np.log(0.1), -np.log(0.5)])
    softmax_ce = np.exp(cross_entropy) / np.exp(cross_entropy).sum()
    assert_allclose(camkd_weights(probas, np.array([1])), [1 - softmax_ce])
    assert_allclose(camkd_weights(probas[:1], np.array([1])), [[1.0]])
    assert_allclose(fuse(probas, np.array([[0.25, 0.75]])), [[0.6, 0.4]])


def test_teacher_features_by_hand():
    probas = np.array([[[1.0, 0.0]], [[0.5, 0.5]]])
    features = teacher_features(probas, np.array([-0.1, -0.7]))
    assert features.shape == (1, 2, 4)
    # confidence, agreement with the mean [0.75, 0.25], performance, diversity
    assert_allclose(features[0, 0], [1.0, 0.75, -0.1, 0.5])
    assert_allclose(features[0, 1], [0.0, 0.75, -0.7, 0.5])


def _attention_gradient_error(probas, y, rng):
    """check_grad of the attention objective at a random ``a``."""
    features = teacher_features(probas, teacher_performance(probas, y))
    true_proba = probas[:, np.arange(len(y)), y].T

    def loss(a):
        return _attention_objective(a, features, true_proba, 0.1)[0]

    def gradient(a):
        return _attention_objective(a, features, true_proba, 0.1)[1]

    return check_grad(loss, gradient, rng.normal(size=features.shape[-1]))


def test_attention_objective_gradient():
    rng = np.random.RandomState(0)
    probas = rng.dirichlet(np.ones(3), size=(3, 50))
    y = rng.randint(3, size=50)
    assert _attention_gradient_error(probas, y, rng) < 1e-5


def test_attention_gradient_is_zero_on_rows_no_teacher_gives_their_class():
    # Both teachers are certain of a wrong class on the first ten rows: their
    # fused probability of the true class is clipped, its loss is constant.
    rng = np.random.RandomState(0)
    probas = rng.dirichlet(np.ones(3), size=(2, 40))
    y = rng.randint(3, size=40)
    probas[:, :10] = np.eye(3)[(y[:10] + 1) % 3]
    assert _attention_gradient_error(probas, y, rng) < 1e-5


def test_fit_attention_beats_uniform_on_its_rows():
    rng = np.random.RandomState(1)
    for _ in range(5):
        probas = rng.dirichlet(np.ones(4) * 0.5, size=(3, 80))
        y = rng.randint(4, size=80)
        features = teacher_features(probas, teacher_performance(probas, y))
        attention = fit_attention(features, probas, y, l2=1e-3)
        fused = fuse(probas, attention_weights(features, attention))
        uniform = fuse(probas, uniform_weights(probas))
        # Random teachers differ on their rows: a learnt attention does
        # strictly better there (the zero attention, uniform, would tie).
        assert np.any(attention != 0)
        assert (
            log_loss(y, fused, labels=range(4))
            < log_loss(y, uniform, labels=range(4)) - 1e-3
        )
        assert_array_equal(attention, fit_attention(features, probas, y, l2=1e-3))


def test_parallel_results_equal_sequential():
    X, y = _small_task(n_samples=120)
    teachers = [
        ("tree", DecisionTreeClassifier(max_depth=3)),
        ("logistic", LogisticRegression()),
    ]
    models = [
        AttentionMultiTeacherClassifier(teachers, cv=3, random_state=0, n_jobs=n_jobs)
        for n_jobs in (1, 2)
    ]
    first, second = (model.fit_transform(X, y) for model in models)
    assert_allclose(first, second)
    assert_allclose(models[0].attention_, models[1].attention_)


def test_memory_reuses_teacher_fits(tmp_path, monkeypatch):
    import skhpmkd._multi_teacher

    fits = []
    fit_teachers = skhpmkd._multi_teacher.fit_teachers

    @functools.wraps(fit_teachers)
    def counted(*args, **kwargs):
        fits.append(1)
        return fit_teachers(*args, **kwargs)

    monkeypatch.setattr(skhpmkd._multi_teacher, "fit_teachers", counted)
    X, y = _small_task(n_samples=120)
    teachers = [("tree", DecisionTreeClassifier(max_depth=3)), ("nb", GaussianNB())]
    first = AttentionMultiTeacherClassifier(
        teachers, weighting="uniform", cv=3, memory=str(tmp_path), random_state=0
    ).fit(X, y)
    second = clone(first).set_params(weighting="attention").fit(X, y)
    # The other weighting read the teachers' cached fits.
    assert len(fits) == 1
    assert len(list(tmp_path.rglob("output.pkl"))) == 1
    assert_allclose(first.teacher_log_loss_, second.teacher_log_loss_)
    uncached = clone(second).set_params(memory=None).fit(X, y)
    assert_allclose(second.predict_proba(X), uncached.predict_proba(X))


def test_nested_params_reach_teachers():
    model = AttentionMultiTeacherClassifier(_teachers())
    params = model.get_params()
    assert params["tree__max_depth"] == 3
    model.set_params(tree__max_depth=5)
    assert model.teachers[0][1].max_depth == 5
    model.set_params(tree=GaussianNB(), boosting=LogisticRegression())
    assert isinstance(model.teachers[0][1], GaussianNB)
    X, y = _small_task(n_samples=120)
    model.set_params(cv=3).fit(X, y)
    assert isinstance(model.named_teachers_["tree"], GaussianNB)
    assert model.teacher_names_ == ["tree", "logistic", "boosting"]
    assert isinstance(model.named_teachers_["boosting"], LogisticRegression)


def test_user_teachers_are_not_fitted():
    teachers = [("tree", DecisionTreeClassifier(max_depth=3)), ("nb", GaussianNB())]
    X, y = _small_task(n_samples=120)
    AttentionMultiTeacherClassifier(teachers, cv=3).fit(X, y)
    for _, teacher in teachers:
        assert not hasattr(teacher, "classes_")


@pytest.mark.parametrize(
    "teachers, message",
    [
        ([], "non-empty list"),
        ([("a", GaussianNB()), ("a", LogisticRegression())], "not unique"),
        ([("a__b", GaussianNB())], "must not contain __"),
        ([("cv", GaussianNB())], "conflict with constructor arguments"),
        ([("svm", LinearSVC()), ("nb", GaussianNB())], "'svm'.*predict_proba"),
        ([GaussianNB()], r"\(name, estimator\) tuple"),
        ([("scaler", StandardScaler())], "'scaler'.*not a classifier"),
    ],
)
def test_invalid_teachers_raise(teachers, message):
    X, y = _small_task(n_samples=60)
    with pytest.raises(ValueError, match=message):
        AttentionMultiTeacherClassifier(teachers, cv=3).fit(X, y)


def test_default_teachers_fit():
    X, y = _small_task(n_samples=100)
    with threadpool_limits(limits=1):
        model = AttentionMultiTeacherClassifier(cv=3, random_state=0).fit(X, y)
    assert model.teacher_names_ == ["logistic", "forest", "boosting"]
    assert model.score(X, y) > 0.8


def test_feeds_temperature_scheduled_distiller():
    X, y = _small_task()
    teachers = [
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("logistic", LogisticRegression()),
        ("bayes", GaussianNB()),
    ]
    multi = AttentionMultiTeacherClassifier(teachers, cv=3, random_state=0)
    distiller = TemperatureScheduledDistiller(
        teacher=multi,
        student=DecisionTreeClassifier(max_depth=4, random_state=0),
        alpha=0.8,
        random_state=0,
    )
    soft_targets = distiller.fit_transform(X, y)
    assert isinstance(distiller.teacher_, AttentionMultiTeacherClassifier)
    # The distiller's training targets are the multi-teacher's out-of-fold
    # fused targets: every teacher here is seeded, so a fresh fit matches.
    assert_allclose(soft_targets, clone(multi).fit_transform(X, y))
    assert_allclose(soft_targets.sum(axis=1), 1.0)
    assert distiller.fidelity_["agreement"] > 0.7
    assert distiller.score(X, y) > 0.7


def test_out_of_bag_and_nested_teachers():
    X, y = _small_task(n_samples=150)
    inner = AttentionMultiTeacherClassifier(
        [("tree", DecisionTreeClassifier(max_depth=3)), ("nb", GaussianNB())], cv=3
    )
    teachers = [
        ("forest", RandomForestClassifier(n_estimators=15, max_depth=4)),
        ("inner", inner),
    ]
    model = AttentionMultiTeacherClassifier(teachers, cv=3, random_state=0)
    targets = model.fit_transform(X, y)
    assert_allclose(targets.sum(axis=1), 1.0)
    assert model.named_teachers_["forest"].oob_score
    assert isinstance(model.named_teachers_["inner"], AttentionMultiTeacherClassifier)


def test_missing_values_when_every_teacher_allows_them():
    X, y = _small_task(n_samples=150)
    X = X.copy()
    X[::7, 0] = np.nan
    teachers = [
        ("shallow", DecisionTreeClassifier(max_depth=2, random_state=0)),
        ("deep", DecisionTreeClassifier(max_depth=5, random_state=0)),
    ]
    model = AttentionMultiTeacherClassifier(teachers, cv=3, random_state=0).fit(X, y)
    assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)
    with_logistic = AttentionMultiTeacherClassifier(
        teachers + [("logistic", LogisticRegression())], cv=3
    )
    with pytest.raises(ValueError, match="NaN"):
        with_logistic.fit(X, y)
    # The default trio imputes in front of its logistic regression.
    fused = AttentionMultiTeacherClassifier(cv=3, random_state=0).fit(X, y)
    assert_allclose(fused.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize("params", [{"n_jobs": 2}, {"memory": "tmp"}])
def test_cv_given_as_a_generator_of_splits(params, tmp_path):
    # Resolved once: a generator can be neither sent to workers nor hashed.
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    if "memory" in params:
        params = {"memory": str(tmp_path)}
    teachers = [
        ("forest", RandomForestClassifier(n_estimators=20, random_state=0)),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ]
    splits = list(StratifiedKFold(3).split(X, y))
    reference = AttentionMultiTeacherClassifier(
        teachers, cv=splits, random_state=0
    ).fit(X, y)
    model = AttentionMultiTeacherClassifier(
        teachers, cv=(split for split in splits), random_state=0, **params
    ).fit(X, y)
    assert_allclose(model.predict_proba(X), reference.predict_proba(X))


def test_a_dropped_teacher_is_left_out_as_in_voting_classifier():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    forest = RandomForestClassifier(n_estimators=20, random_state=0)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    both = AttentionMultiTeacherClassifier(
        [("forest", forest), ("tree", tree)], cv=3, random_state=0
    )
    dropped = clone(both).set_params(tree="drop").fit(X, y)
    alone = AttentionMultiTeacherClassifier(
        [("forest", forest)], cv=3, random_state=0
    ).fit(X, y)
    assert dropped.teacher_names_ == ["forest"]
    assert list(dropped.named_teachers_) == ["forest"]
    assert_allclose(dropped.predict_proba(X), alone.predict_proba(X))
    assert dropped.get_params()["tree"] == "drop"
    with pytest.raises(ValueError, match="Every one of the teachers is 'drop'"):
        clone(both).set_params(forest="drop", tree="drop").fit(X, y)
    search = GridSearchCV(both, {"tree": ["drop", tree]}, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    # HPMKDClassifier fits the one teacher left directly, not a fusion of one.
    model = HPMKDClassifier(
        [("forest", forest), ("tree", "drop")], students=["dt"], budget=2, cv=3
    ).fit(X, y)
    assert isinstance(model.teacher_, RandomForestClassifier)


@pytest.mark.parametrize("labels", [["a", "b", "c"], [3, 7, 11]], ids=str)
def test_a_frozen_teacher_fitted_on_the_labels_fits_in_a_nested_fusion(labels):
    # Estimators that fit a fused teacher give it the labels, not their
    # codes, so a pre-fitted teacher inside it matches them.
    X, codes = make_classification(
        n_samples=120, n_informative=4, n_classes=3, random_state=0
    )
    y = np.asarray(labels)[codes]
    frozen = FrozenEstimator(LogisticRegression(max_iter=1000).fit(X, y))
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    fused = AttentionMultiTeacherClassifier([("frozen", frozen), ("tree", tree)], cv=3)
    for model in (
        HPMKDClassifier(
            [("frozen", frozen), ("tree", tree)], students=["dt"], budget=2, cv=3
        ),
        TemperatureScheduledDistiller(fused, cv=3),
    ):
        model.set_params(random_state=0).fit(X, y)
        assert_array_equal(model.classes_, np.sort(labels))
        assert np.isin(model.predict(X), labels).all()


def test_a_frozen_teacher_that_does_not_fit_the_data_is_named():
    X, y = make_classification(
        n_samples=90, n_informative=4, n_classes=3, random_state=0
    )
    tree = DecisionTreeClassifier(max_depth=3)
    narrow = FrozenEstimator(LogisticRegression().fit(X[:, :-1], y))
    shifted = FrozenEstimator(LogisticRegression().fit(X, y + 1))
    for name, frozen, message in (
        ("narrow", narrow, "was fitted on 19 features, but X has 20 features"),
        ("shifted", shifted, r"fitted on classes \[1, 2, 3\], but y has classes"),
    ):
        model = AttentionMultiTeacherClassifier([("tree", tree), (name, frozen)])
        with pytest.raises(ValueError, match=f"^Teacher '{name}': .*{message}"):
            model.fit(X, y)
