"""HPMKDClassifier: fitted attributes, budget, switches, caching, determinism, errors."""

import json
import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax
from sklearn.base import MetaEstimatorMixin
from sklearn.datasets import load_breast_cancer, make_classification, make_moons
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import get_tags

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    TemperatureScheduledDistiller,
    _search,
)
from skhpmkd._search import default_families, fit_config
from skhpmkd._soft_targets import fit_soft_student
from skhpmkd.metrics import model_size


def _light(**params):
    defaults = dict(
        teachers=RandomForestClassifier(n_estimators=20, max_depth=6),
        students=["dt", "lr"],
        budget=4,
        cv=3,
        random_state=0,
    )
    return HPMKDClassifier(**{**defaults, **params})


@pytest.fixture(scope="module")
def three_class():
    X, y = make_classification(
        n_samples=600,
        n_features=8,
        n_informative=5,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X, np.array(["ant", "bee", "cat"])[y]


@pytest.fixture(scope="module")
def fitted(three_class):
    return _light().fit(*three_class)


def test_fitted_attributes_and_plain_student(fitted, three_class):
    X, y = three_class
    assert_array_equal(fitted.classes_, ["ant", "bee", "cat"])
    assert type(fitted.student_).__module__.split(".")[0] == "sklearn" or (
        type(fitted.student_).__name__ == "SoftTargetClassifier"
    )
    assert not hasattr(fitted.student_, "teacher_")
    assert_array_equal(fitted.predict(X), fitted.student_.predict(X))
    assert fitted.score(X, y) > 0.8
    assert set(fitted.best_params_) == {"student", "size", "temperature", "alpha"}
    assert fitted.best_params_["student"] in ("dt", "lr")
    assert 0 <= fitted.fidelity_["kl"] and 0.8 < fitted.fidelity_["agreement"] <= 1
    assert fitted.transform(X).shape == (len(X), 3)


def test_search_results_table_is_consistent(fitted):
    results = fitted.search_results_
    n_fits = len(results["params"])
    for key, column in results.items():
        assert len(column) == n_fits, key
    assert set(results["stage"]) <= {"halving", "surrogate", "warm_start"}
    assert np.all((results["resource"] > 0) & (results["resource"] <= 1))
    full = results["resource"] == 1.0
    assert fitted.best_score_ == results["score"][full].max()
    assert np.all(results["size"] > 0)
    assert np.all(results["fit_time"] >= 0)


def test_models_are_counted_and_budget_is_kept(fitted):
    results = fitted.search_results_
    assert fitted.n_student_fits_ == len(results["params"]) + 1
    # A bootstrap forest gives out-of-bag targets from a single fit.
    assert fitted.n_teacher_fits_ == 1
    assert fitted.n_models_fitted_ == fitted.n_teacher_fits_ + fitted.n_student_fits_
    assert fitted.search_cost_ == pytest.approx(results["resource"].sum() + 1)
    assert fitted.search_cost_ <= fitted.budget + 0.5


def test_small_budget_still_scores_every_student(three_class):
    # Budget 2 cannot carry one configuration per student through successive
    # halving: each student is scored once on the smallest row subset, and
    # only the best of them on all the rows.
    model = _light(students=["lr", "dt", "xgboost"], budget=2).fit(*three_class)
    results = model.search_results_
    screened = results["resource"] < 1
    assert sorted(results["param_student"][screened]) == ["dt", "lr", "xgboost"]
    assert len(set(results["resource"][screened])) == 1
    assert list(results["stage"]) == ["halving"] * 4
    best = max(
        np.flatnonzero(screened),
        key=lambda i: (results["score"][i], -results["log_loss"][i]),
    )
    (full,) = np.flatnonzero(~screened)
    assert results["params"][full] == results["params"][best]
    assert model.best_params_ == results["params"][best]
    # Three fits on a third of the rows and one on all of them, then the refit.
    assert model.search_cost_ == pytest.approx(3 / 3 + 1 + 1)


def test_binary_task_does_not_search_temperature():
    X, y = load_breast_cancer(return_X_y=True)
    model = _light().fit(X, y)
    assert set(model.search_results_["param_temperature"]) == {1.0}


def test_same_random_state_gives_identical_results(three_class):
    first = _light().fit(*three_class)
    second = _light().fit(*three_class)
    assert first.best_params_ == second.best_params_
    assert_array_equal(first.search_results_["score"], second.search_results_["score"])
    assert_allclose(
        first.predict_proba(three_class[0]), second.predict_proba(three_class[0])
    )


def test_n_jobs_does_not_change_results(fitted, three_class):
    parallel = _light(n_jobs=2).fit(*three_class)
    assert parallel.best_params_ == fitted.best_params_
    assert_array_equal(
        parallel.search_results_["score"], fitted.search_results_["score"]
    )
    assert_array_equal(
        parallel.search_results_["stage"], fitted.search_results_["stage"]
    )
    assert_allclose(
        parallel.predict_proba(three_class[0]), fitted.predict_proba(three_class[0])
    )


def test_several_teachers_are_fused_unless_switched_off(three_class):
    teachers = [
        ("forest", RandomForestClassifier(n_estimators=20, max_depth=6)),
        ("logistic", LogisticRegression(max_iter=500)),
    ]
    fused = _light(teachers=teachers, budget=2).fit(*three_class)
    assert isinstance(fused.teacher_, AttentionMultiTeacherClassifier)
    # The forest is out-of-bag; the logistic regression has 3 folds + 1 fit.
    assert fused.n_teacher_fits_ == 1 + 4
    single = _light(teachers=teachers, use_multi_teacher=False, budget=2).fit(
        *three_class
    )
    assert isinstance(single.teacher_, RandomForestClassifier)


def test_an_hpmkd_teacher_is_fitted_once_and_counted_whole(three_class):
    # Its fit_transform gives its own teacher's out-of-fold targets.
    inner = _light(teachers=DecisionTreeClassifier(max_depth=3), budget=1)
    model = _light(teachers=inner, budget=2).fit(*three_class)
    assert isinstance(model.teacher_, HPMKDClassifier)
    assert model.n_teacher_fits_ == model.teacher_.n_models_fitted_ > 1
    assert model.predict_proba(three_class[0]).shape == (len(three_class[1]), 3)


def test_frozen_teacher_is_not_refitted(three_class):
    X, y = three_class
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    model = _light(teachers=FrozenEstimator(teacher), budget=2).fit(X, y)
    assert model.n_teacher_fits_ == 0
    assert model.teacher_.estimator is teacher


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_a_frozen_student_is_refused_before_any_fit(three_class, in_pipeline):
    X, y = three_class
    frozen = FrozenEstimator(DecisionTreeClassifier(max_depth=2).fit(X, y))
    student = make_pipeline(StandardScaler(), frozen) if in_pipeline else frozen
    model = _light(students=["dt", student])
    with pytest.raises(
        ValueError, match="Every student must be an unfitted classifier"
    ):
        model.fit(X, y)
    assert not hasattr(model, "teacher_")


def test_memory_caches_the_teacher_across_fits(three_class, tmp_path):
    # joblib keeps a str location's cache in a "joblib" folder inside it, so
    # both forms are given as str to share one cache.
    memory = joblib.Memory(str(tmp_path / "cache"), verbose=0)
    first = _light(memory=memory, budget=2).fit(*three_class)
    second = _light(memory=memory, budget=2).fit(*three_class)
    assert first.n_teacher_fits_ == 1 and second.n_teacher_fits_ == 0
    assert_allclose(
        first.predict_proba(three_class[0]), second.predict_proba(three_class[0])
    )
    path_memory = _light(memory=str(tmp_path / "cache"), budget=2).fit(*three_class)
    assert path_memory.n_teacher_fits_ == 0


def test_memory_caches_seeded_fused_teachers_without_a_random_state(
    three_class, tmp_path
):
    # As the user guide says: with random_state=None the cache hits when
    # every teacher has its own seed, also for the teachers it fuses.
    memory = joblib.Memory(str(tmp_path / "cache"), verbose=0)
    teachers = [
        ("forest", RandomForestClassifier(n_estimators=10, random_state=0)),
        ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
    ]
    fits = [
        _light(memory=memory, teachers=teachers, budget=1, random_state=None)
        .fit(*three_class)
        .n_teacher_fits_
        for _ in range(2)
    ]
    assert fits[0] > 0 and fits[1] == 0


def test_memory_caches_fused_teachers_whatever_n_jobs(three_class, tmp_path):
    # n_jobs changes how, not what, is fitted: it must not change the key.
    memory = joblib.Memory(str(tmp_path / "cache"), verbose=0)
    teachers = [
        ("tree", DecisionTreeClassifier(max_depth=4)),
        ("logistic", LogisticRegression(max_iter=300)),
    ]
    fits = [
        _light(memory=memory, teachers=teachers, budget=1, n_jobs=n_jobs)
        .fit(*three_class)
        .n_teacher_fits_
        for n_jobs in (1, 2, None)
    ]
    assert fits == [8, 0, 0]
    # A fused teacher the user built keeps its own n_jobs, also as the one
    # teacher of a list.
    fused = AttentionMultiTeacherClassifier(teachers, cv=3, n_jobs=2)
    for given in (fused, [("fused", fused)], [("fused", fused), ("x", "drop")]):
        model = _light(teachers=given, budget=1, n_jobs=1).fit(*three_class)
        assert model.teacher_.n_jobs == 2


def test_size_constraint_is_respected(three_class):
    model = _light(students=["dt"], max_student_size=15, budget=3).fit(*three_class)
    assert model_size(model.student_) <= 15
    assert model.best_params_["size"] == 0


def test_a_student_too_large_at_its_middle_size_is_scored_smaller():
    # XGBoost's middle size (60 trees of depth 3) exceeds the bound, its
    # smallest (30 trees of depth 2) does not; on two moons it beats the
    # linear student, which it could not if halving dropped it unseen.
    X, y = make_moons(n_samples=1_500, noise=0.3, random_state=0)
    model = HPMKDClassifier(
        RandomForestClassifier(n_estimators=50, random_state=0),
        students=["lr", "xgboost"],
        max_student_size=250,
        budget=3,
        random_state=0,
    ).fit(X, y)
    results = model.search_results_
    halving = [
        (params["student"], params["size"], size)
        for params, size, stage in zip(
            results["params"], results["size"], results["stage"]
        )
        if stage == "halving"
    ]
    assert ("xgboost", 1) in [(name, size) for name, size, _ in halving]
    assert any(
        name == "xgboost" and size == 0 and n <= 250 for name, size, n in halving
    )
    assert model.best_params_["student"] == "xgboost"
    assert model_size(model.student_) <= 250


def test_size_bound_as_a_share_of_the_teacher(three_class):
    unbounded = _light(students=["dt"], budget=3).fit(*three_class)
    assert unbounded.max_student_size_ is None
    teacher_size = model_size(unbounded.teacher_)
    assert teacher_size == sum(
        tree.tree_.node_count for tree in unbounded.teacher_.estimators_
    )
    # A share that rules out the unbounded winner.
    share = (model_size(unbounded.student_) - 1) / teacher_size
    model = _light(students=["dt"], max_student_size=share, budget=3)
    model.fit(*three_class)
    assert model.max_student_size_ == int(share * teacher_size)
    assert model.max_student_size_ < model_size(unbounded.student_)
    assert model_size(model.student_) <= model.max_student_size_


def _grown_on_refit(n_samples, bound, random_state, bound_name="max_student_size"):
    # XGBoost students whose trees fill up when refitted on every row: on
    # 800 rows, seed 1, the winner within 864 nodes on the search's rows (60
    # rounds of depth 3) has 884 after the refit; on 400 rows, seed 3, the
    # smallest student (30 rounds of depth 2) grows from 208 to 210 nodes.
    X, y = make_classification(
        n_samples=n_samples, n_features=8, n_informative=5, random_state=1
    )
    model = HPMKDClassifier(
        RandomForestClassifier(n_estimators=30, random_state=0),
        students=["xgboost"],
        budget=5,
        random_state=random_state,
        **{bound_name: bound},
    )
    return model, X, y


def _latency_of_size(monkeypatch):
    # Prediction time made a deterministic microsecond per node, in the search
    # and at the refit alike, so that the latency bound acts as the size bound.
    def latency(student, X):
        return model_size(student) * 1e-6

    monkeypatch.setattr(_search, "predict_latency", latency)


def test_refit_grown_past_the_size_bound_is_replaced():
    model, X, y = _grown_on_refit(800, 864, 1)
    model.fit(X, y)
    assert model_size(model.student_) <= 864
    # The winner was refitted, found too large, and a smaller one deployed.
    n_search_fits = len(model.search_results_["score"])
    assert model.n_student_fits_ == n_search_fits + 2
    assert model.search_cost_ >= 2
    results = model.search_results_
    deployed = [
        i for i, params in enumerate(results["params"]) if params == model.best_params_
    ]
    assert deployed and results["score"][deployed[-1]] == model.best_score_
    assert results["resource"][deployed[-1]] == 1.0


def test_refit_grown_past_every_size_raises():
    model, X, y = _grown_on_refit(400, 208, 3)
    with pytest.raises(
        ValueError, match=r"max_student_size=208 nodes when refitted .* size 210"
    ):
        model.fit(X, y)


def test_refit_slower_than_the_latency_bound_is_replaced(monkeypatch):
    _latency_of_size(monkeypatch)
    model, X, y = _grown_on_refit(800, 864e-6, 1, "max_latency")
    model.fit(X, y)
    assert model_size(model.student_) <= 864
    n_search_fits = len(model.search_results_["score"])
    assert model.n_student_fits_ == n_search_fits + 2
    assert np.all(model.search_results_["latency"] > 0)


def test_refit_slower_than_the_bound_at_every_size_raises(monkeypatch):
    _latency_of_size(monkeypatch)
    model, X, y = _grown_on_refit(400, 208e-6, 3, "max_latency")
    with pytest.raises(
        ValueError,
        match=r"max_latency=0.000208 s per 1,000 rows when refitted .* fastest "
        r"takes 0.00021 s\. Loosen max_latency\.",
    ):
        model.fit(X, y)


def test_latency_is_timed_in_this_process_between_batches(monkeypatch, three_class):
    # Workers fit in parallel; a latency timed in a worker would be slowed by
    # the others' fits. Each scored student is timed here instead, so the
    # bound means the same with any n_jobs (the patch reaches no worker).
    timed = []

    def latency(student, X):
        timed.append(student)
        return 1e-6

    monkeypatch.setattr(_search, "predict_latency", latency)
    model = _light(n_jobs=2, max_latency=1.0).fit(*three_class)
    n_scored = len(model.search_results_["score"])
    assert len(timed) == n_scored + 1  # and the refitted student
    assert_array_equal(model.search_results_["latency"], 1e-6)


@pytest.mark.parametrize("student", ["dt", "lightgbm"])
def test_latency_bound_on_a_dataframe_warns_nothing(student):
    # The refitted student knows the column names (LightGBM its own sanitised
    # ones); its latency is measured on rows named as it expects.
    pytest.importorskip("pandas")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = HPMKDClassifier(
        students=[student], budget=3, max_latency=1.0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X, y)
    assert list(model.feature_names_in_) == list(X.columns)


@pytest.mark.parametrize("student", ["xgboost", "lightgbm"])
def test_boosters_take_column_names_they_refuse_in_their_own_fit(student):
    # XGBoost refuses "[", "]" and "<" in column names, LightGBM JSON
    # characters; such a booster is fitted on the bare array instead.
    pytest.importorskip("pandas")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :6].rename(columns=lambda name: f"{name} [cm] <:")
    model = HPMKDClassifier(students=[student], budget=2, random_state=0)
    model.fit(X, y)
    assert list(model.feature_names_in_) == list(X.columns)
    assert not hasattr(model.student_, "feature_names_in_")
    assert model.score(X, y) > 0.9
    assert_allclose(model.predict_proba(X), model.student_.predict_proba(X.to_numpy()))


def test_size_share_of_fused_teachers(three_class):
    teachers = [
        ("forest", RandomForestClassifier(n_estimators=5, max_depth=4)),
        ("tree", DecisionTreeClassifier(max_depth=5)),
    ]
    model = _light(teachers=teachers, students=["dt"], max_student_size=0.5, budget=2)
    model.fit(*three_class)
    fused = model.teacher_.teachers_
    assert model.max_student_size_ == int(0.5 * sum(map(model_size, fused)))


def test_size_share_of_an_unmeasurable_teacher(three_class):
    model = _light(teachers=GaussianNB(), max_student_size=0.1, budget=2)
    with pytest.raises(ValueError, match=r"max_student_size=0.1 .*GaussianNB"):
        model.fit(*three_class)


@pytest.mark.parametrize("bound", [0.0, 1.0, 1.5, 0, -3])
def test_size_bound_out_of_range(three_class, bound):
    with pytest.raises(ValueError, match="max_student_size"):
        _light(max_student_size=bound).fit(*three_class)


def test_student_estimators_and_scoring(three_class):
    model = _light(
        students=[
            DecisionTreeClassifier(max_depth=2),
            DecisionTreeClassifier(max_depth=4),
        ],
        scoring="neg_log_loss",
        budget=3,
    ).fit(*three_class)
    assert set(model.search_results_["param_student"]) <= {
        "DecisionTreeClassifier",
        "DecisionTreeClassifier_2",
    }
    assert model.best_score_ < 0
    assert model.best_params_["size"] is None


def test_xgboost_student_predicts_original_labels(three_class):
    pytest.importorskip("xgboost")
    X, labels = three_class  # strings
    model = _light(students=["xgboost"], budget=2).fit(X, labels)
    assert type(model.student_).__name__ == "XGBClassifier"
    # The bare booster predicts codes; HPMKDClassifier maps them to labels.
    codes = model.student_.predict(X)
    assert set(codes) == {0, 1, 2}
    assert_array_equal(model.predict(X), model.classes_[codes])
    assert np.mean(model.predict(X) == labels) > 0.8
    loaded = pickle.loads(pickle.dumps(model.student_))
    assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


def test_verbose_prints_one_line_per_stage(three_class, capsys):
    _light(verbose=1, budget=3).fit(*three_class)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[HPMKDClassifier] teacher RandomForestClassifier")
    assert any("halving rung" in line for line in lines)
    assert "models fitted" in lines[-1]


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(students=["svm"]), "Unknown student family 'svm'"),
        (dict(students=[]), "students must be a non-empty list"),
        (dict(students=["dt", "lr", "dt"]), "lists the family 'dt' twice"),
        (dict(students=[LogisticRegression, "dt"]), "Every student must be"),
        (dict(students=["lr", None]), "Every student must be .*; got None"),
        (dict(students=["lr", {"C": 1}]), "Every student must be"),
        (dict(teachers=[]), "teachers must be a classifier or a non-empty list"),
        (dict(teachers=[RandomForestClassifier()]), "list of \\(name, classifier\\)"),
        (dict(augment_method="gauss"), "'augment_method' parameter .* Got 'gauss'"),
        (dict(scoring="acuracy"), "'scoring' parameter .* Got 'acuracy'"),
        (dict(warm_start_memory=""), "must be the path of a file; got ''"),
        (dict(warm_start_memory="."), "must be the path of a file; got '.', a dir"),
    ],
)
def test_bad_parameters_raise(three_class, params, message):
    with pytest.raises(ValueError, match=message):
        _light(**params).fit(*three_class)
    # Before any teacher is fitted.
    if "teachers" not in params:
        with pytest.raises(ValueError, match=message):
            _light(teachers=_UnfittableTeacher(), **params).fit(*three_class)


class _UnfittableTeacher(RandomForestClassifier):
    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("the teacher was fitted")


def test_a_nan_score_ranks_last_and_is_not_remembered(three_class, tmp_path):
    # As in GridSearchCV: a scorer that fails for some students (NaN) must
    # not make them the best, nor poison the optimisation memory.
    def scorer(estimator, X, y):
        if "DecisionTree" in repr(estimator.student):
            return float("nan")
        return float(np.mean(estimator.predict(X) == y))

    memory = tmp_path / "memory.json"
    model = _light(scoring=scorer, warm_start_memory=memory).fit(*three_class)
    scores = np.asarray(model.search_results_["score"], dtype=float)
    assert np.isnan(scores).any()
    assert model.best_params_["student"] == "lr"
    assert model.best_score_ == np.nanmax(scores)
    records = json.loads(memory.read_text())["records"]
    assert records and {r["config"]["student"] for r in records} == {"lr"}


def test_a_scoring_that_needs_a_class_too_rare_to_split_names_it(three_class):
    X, y = three_class
    y = y.copy()
    y[0] = "dog"  # one row: it cannot be in both the fit and validation rows
    assert _light(budget=2).fit(X, y).best_score_ > 0.5
    with pytest.raises(ValueError, match=r"hold no row of the classes \['dog'\]"):
        _light(budget=2, scoring="neg_log_loss").fit(X, y)


@pytest.mark.parametrize(
    "scoring, said",
    [
        ("roc_auc", "multi_class must be in"),
        ("f1", "Target is multiclass but average='binary'"),
    ],
)
def test_a_binary_scoring_of_a_multiclass_task_is_named(three_class, scoring, said):
    # scikit-learn's error named neither the parameter nor the way out.
    message = (
        rf"scoring='{scoring}' failed on the held-out rows of this 3-class task; a "
        r"metric of binary tasks needs its multiclass form, such as 'roc_auc_ovr' "
        rf"or 'f1_macro'. The scorer said: {said}"
    )
    with pytest.raises(ValueError, match=message):
        _light(budget=2, scoring=scoring).fit(*three_class)
    _light(budget=2, scoring="f1_macro").fit(*three_class)


@pytest.mark.parametrize(
    "value, shown",
    [(np.array([0.5, 0.6]), r"array\(\[0.5, 0.6\]\)"), ({"a": 1}, "{'a': 1}")],
    ids=["array", "dict"],
)
def test_a_scoring_that_returns_no_single_number_is_named(three_class, value, shown):
    def scoring(estimator, X, y):
        return value

    message = r"scoring=<function .*scoring.*> must return a single number, as a "
    message += rf"scikit-learn scorer does; it returned {shown}\."
    with pytest.raises(ValueError, match=message):
        _light(budget=2, scoring=scoring).fit(*three_class)


def test_a_splitter_by_groups_is_named_with_the_way_out(three_class):
    from sklearn.model_selection import GroupKFold

    X, y = three_class
    groups = np.arange(len(y)) % 4
    message = (
        r"cv=GroupKFold\(n_splits=3.*\) splits by groups, which fit does not take; "
        r"pass its splits instead: cv=list\(cv.split\(X, y, groups\)\)."
    )
    # A bagged forest is not cross-fitted: it never splits.
    teacher = LogisticRegression(max_iter=1000)
    with pytest.raises(ValueError, match=message):
        _light(teachers=teacher, budget=2, cv=GroupKFold(3)).fit(X, y)
    with pytest.raises(ValueError, match=message):
        TemperatureScheduledDistiller(teacher, cv=GroupKFold(3)).fit(X, y)
    splits = list(GroupKFold(3).split(X, y, groups))
    _light(teachers=teacher, budget=2, cv=splits).fit(X, y)
    _light(budget=2, cv=GroupKFold(3)).fit(X, y)


def test_a_memory_that_cannot_be_written_is_refused_first(three_class, monkeypatch):
    # Tests may run as root, who may write anywhere: os.access says no here.
    import skhpmkd._hpmkd

    monkeypatch.setattr(skhpmkd._hpmkd.os, "access", lambda path, mode: False)
    model = _light(teachers=_UnfittableTeacher(), warm_start_memory="memory.json")
    with pytest.raises(ValueError, match="'memory.json' cannot be written"):
        model.fit(*three_class)


def test_a_memory_under_a_file_is_refused_first(three_class, tmp_path):
    # Its folder would have to be created where a file is.
    blocker = tmp_path / "file"
    blocker.write_text("")
    model = _light(
        teachers=_UnfittableTeacher(), warm_start_memory=blocker / "memory.json"
    )
    with pytest.raises(ValueError, match="in '.*file', which must be a folder"):
        model.fit(*three_class)


def test_named_teachers_are_parameters_as_in_a_voting_ensemble(three_class):
    from sklearn.model_selection import GridSearchCV

    X, y = three_class
    teachers = [("tree", DecisionTreeClassifier()), ("logistic", LogisticRegression())]
    model = _light(teachers=teachers, students=["dt"], budget=2)
    assert isinstance(model, MetaEstimatorMixin)
    assert model.get_params()["tree__max_depth"] is None
    search = GridSearchCV(
        model, {"tree__max_depth": [2, 3], "logistic": ["drop"]}, cv=2
    ).fit(X, y)
    assert search.best_estimator_.teachers[0][1].max_depth in (2, 3)
    assert search.best_estimator_.teachers[1][1] == "drop"
    assert teachers[0][1].max_depth is None  # the user's teachers are untouched
    single = _light(teachers=DecisionTreeClassifier()).set_params(teachers__max_depth=3)
    assert single.teachers.max_depth == 3
    clash = [("budget", DecisionTreeClassifier()), ("b", LogisticRegression())]
    with pytest.raises(ValueError, match=r"conflict with constructor arguments"):
        _light(teachers=clash).fit(X, y)


def test_a_family_whose_library_is_missing_is_named(three_class, monkeypatch):
    # The family is known but its library cannot be imported: the error says
    # so, before any import of it is attempted.
    import skhpmkd._hpmkd

    monkeypatch.setattr(skhpmkd._hpmkd, "installed_families", lambda: ["lr", "dt"])

    def no_import(family, size):
        raise ModuleNotFoundError(f"No module named {family!r}")

    monkeypatch.setattr(skhpmkd._hpmkd, "family_student", no_import)
    with pytest.raises(ValueError, match="'xgboost' needs a library that is not"):
        _light(students=["dt", "xgboost"]).fit(*three_class)


def test_default_students_and_transfer_set_size(three_class):
    X, y = three_class
    model = _light(students=None, budget=3, augment_method="munge").fit(X, y)
    assert set(model.search_results_["param_student"]) <= set(default_families())
    # "auto" adds 10,000 rows, at most five times the 480 fit rows.
    assert max(model.search_results_["n_rows"]) == 480 * 6


def test_default_teacher_and_students_accept_missing_values(three_class):
    X, y = three_class
    X = X.copy()
    X[::5, 0] = np.nan
    X[::7, 3] = np.nan
    before = X.copy()
    model = _light(teachers=None, students=None, budget=3)
    assert get_tags(model).input_tags.allow_nan
    model.fit(X, y)
    assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)
    assert_array_equal(X, before)
    # A pipeline without an imputer in front of its logistic regression
    # cannot take them, and says so.
    scaled = make_pipeline(StandardScaler(), LogisticRegression())
    with pytest.raises(ValueError, match="NaN"):
        _light(students=[scaled], budget=2).fit(X, y)


def test_unreachable_size_bound_raises(three_class):
    with pytest.raises(
        ValueError, match="No candidate student meets max_student_size=1 nodes:"
    ) as error:
        _light(students=["dt"], max_student_size=1, max_latency=10.0, budget=2).fit(
            *three_class
        )
    assert "max_latency" not in str(error.value)  # every student is fast enough


def test_chain_distils_the_winner_through_assistants(three_class):
    X, y = three_class
    model = _light(students=["dt"], budget=2, use_chain=True).fit(X, y)
    chain = model.chain_
    assert chain.stages_[-1]["estimator"] is model.student_
    assert chain.stages_[-1]["name"] == "student"
    # The chain reuses this fit's out-of-fold targets: no extra teacher fit.
    assert model.n_teacher_fits_ == 1
    assert model.n_student_fits_ > len(model.search_results_["params"]) + 1
    assert_array_equal(model.predict(X), model.student_.predict(X))
    assert _light(students=["dt"], budget=2).fit(X, y).chain_ is None


def test_chain_of_a_student_without_capacity_distils_it_quietly(three_class):
    # No assistant can be grown from a logistic regression: the chain fits the
    # student alone, without the chain's warning about its auto_student.
    X, y = three_class
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = _light(students=["lr"], budget=2, use_chain=True).fit(X, y)
    assert [stage["name"] for stage in model.chain_.stages_] == ["student"]
    assert model.chain_.trials_ == []


def test_logistic_student_in_a_pipeline_is_rescaled_by_temperature_once():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = rng.randint(3, size=120)
    targets = rng.dirichlet(np.ones(3), size=120)
    config = {"temperature": 2.0, "alpha": 0.5}

    def student():
        return make_pipeline(StandardScaler(), LogisticRegression())

    searched = fit_config(student(), X, targets, y, np.arange(3), config, False)
    direct, _ = fit_soft_student(
        student(), X, targets, y, np.arange(3), alpha=0.5, temperature=2.0
    )
    np.testing.assert_allclose(searched[-1].coef_, direct[-1].coef_)
    # The same soft targets learnt at T = 1 (the teacher tempered by hand)
    # give margins exactly T = 2 times smaller: scaled once, not twice.
    tempered = softmax(np.log(targets) / 2.0, axis=1)
    at_one, _ = fit_soft_student(
        student(), X, tempered, y, np.arange(3), alpha=0.5, temperature=1.0
    )
    np.testing.assert_allclose(searched[-1].coef_, 2.0 * at_one[-1].coef_, rtol=1e-10)
    np.testing.assert_allclose(
        searched[-1].intercept_, 2.0 * at_one[-1].intercept_, rtol=1e-10
    )


def test_perceptron_family_is_searched_over_hidden_units(three_class):
    X, y = three_class
    model = _light(students=["mlp"], budget=3).fit(X, y)
    assert model.best_params_["student"] == "mlp"
    perceptron = model.student_[-1]
    assert isinstance(perceptron, MLPClassifier)
    hidden = (8, 16, 32, 64)[model.best_params_["size"]]
    assert perceptron.hidden_layer_sizes == (hidden,)
    assert model_size(model.student_) == 8 * hidden + hidden + hidden * 3 + 3
    proba = model.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(model.predict(X), model.student_.predict(X))
    again = _light(students=["mlp"], budget=3).fit(X, y)
    assert_array_equal(again.predict_proba(X), proba)


def test_rows_too_few_to_subset_still_score_every_student():
    # Without a transfer set, 140 fit rows give a single fidelity level; a
    # budget of 2 still scores each student once, on all of them.
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    model = _light(students=["dt", "lr", "xgboost"], budget=2, augment=0.0)
    model.fit(X, y)
    assert set(model.search_results_["param_student"]) == {"dt", "lr", "xgboost"}


def test_the_refit_falls_back_to_a_student_left_on_a_row_subset():
    # dt wins the search but grows past the bound on all rows; lr, scored on
    # a third of the rows only, is within it and must be found.
    rng = np.random.RandomState(6)
    X = rng.uniform(-1, 1, size=(600, 3))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    flip = rng.rand(600) < 0.01
    y[flip] = 1 - y[flip]
    model = HPMKDClassifier(
        DecisionTreeClassifier(random_state=0),
        students=["dt", "lr"],
        budget=4,
        augment=0,
        max_student_size=11,
        random_state=6,
    ).fit(X, y)
    assert model_size(model.student_) <= 11


def test_a_student_of_unknown_size_needs_a_size_bound_only_to_be_measured(
    three_class,
):
    model = _light(students=["lr", GaussianNB()], budget=2).fit(*three_class)
    assert model.score(*three_class) > 0.7
    message = (
        r"max_student_size \(a bound of 50 nodes\) needs the size of every "
        r"student\. Cannot measure the size of a GaussianNB: .* Remove the bound, "
        "or the student."
    )
    with pytest.raises(ValueError, match=message):
        _light(students=[GaussianNB()], budget=2, max_student_size=50).fit(*three_class)


def test_the_chain_takes_nan_when_the_teacher_does(three_class):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = three_class
    X = X.copy()
    X[::7, 0] = np.nan
    model = _light(
        teachers=HistGradientBoostingClassifier(max_iter=20),
        students=["dt"],
        budget=2,
        use_chain=True,
    ).fit(X, y)
    assert model.score(X, y) > 0.7


def test_too_few_rows_for_the_validation_fraction_are_named():
    X, y = make_classification(n_samples=40, random_state=0)
    with pytest.raises(ValueError, match="validation_fraction=0.99 holds out 40 of"):
        _light(validation_fraction=0.99).fit(X, y)


@pytest.mark.parametrize("family", ["xgboost", "lightgbm"])
def test_a_boosted_student_with_fewer_fit_rows_than_classes_is_named(family):
    # Three rows of two classes: the search holds out one of each and fits
    # the students on the third, whose class alone a booster cannot learn
    # (it said "got 1 rows for 2 classes", rows the user never saw).
    pytest.importorskip(family)
    X, y = np.arange(6.0).reshape(3, 2), np.array([0, 1, 0])
    teacher = RandomForestClassifier(n_estimators=5, random_state=0)
    with pytest.raises(
        ValueError,
        match=(
            r"The search fits the students on 1 of the 3 training rows "
            r"\(validation_fraction=0.2 holds out the other 2, at least one of "
            r"each class\) and 0 transfer rows, fewer than the 2 classes; the "
            rf"boosted students \['{family}'\] need a row of every class\."
        ),
    ):
        HPMKDClassifier(teacher, students=["lr", family], random_state=0).fit(X, y)
    # Students without boosting learn from it.
    model = HPMKDClassifier(teacher, students=["lr", "dt"], random_state=0)
    assert_array_equal(model.fit(X, y).classes_, [0, 1])


def test_a_booster_ending_a_pipeline_is_searched_as_a_booster(three_class):
    # Its temperature is annealed along the cosine as a bare booster's is;
    # it was fitted on duplicated rows, with tempered (flat) probabilities.
    xgboost = pytest.importorskip("xgboost")
    X, y = three_class
    X, y = X[:200] * 30 + 5, np.searchsorted(np.unique(y), y[:200])
    targets = softmax(np.random.RandomState(0).normal(size=(200, 3)) * 2, axis=1)
    config = {"temperature": 3.0, "alpha": 0.7}

    def booster():
        return xgboost.XGBClassifier(n_estimators=10, max_depth=2, n_jobs=1)

    pipeline = make_pipeline(StandardScaler(), booster())
    fitted = fit_config(pipeline, X, targets, y, np.arange(3), config, True)
    Xt = StandardScaler().fit_transform(X)
    bare = fit_config(booster(), Xt, targets, y, np.arange(3), config, True)
    assert_allclose(fitted.predict_proba(X), bare.predict_proba(Xt))
    model = _light(students=[make_pipeline(StandardScaler(), booster())], budget=2)
    labels = model.fit(*three_class).predict(three_class[0])
    assert set(labels) <= {"ant", "bee", "cat"}
