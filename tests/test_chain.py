"""ProgressiveChainClassifier: chained out-of-fold targets, stages, auto ladder."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import load_wine, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import ProgressiveChainClassifier, TemperatureScheduledDistiller
from skhpmkd import _chain as _chain_module
from skhpmkd._chain import _ladder_bounds, _rung_params, cross_family_steps
from skhpmkd._size import capacity, model_size
from skhpmkd._soft_targets import fit_soft_student
from skhpmkd._teachers import PrecomputedTeacher
from skhpmkd.metrics import top1_agreement

STAGE_KEYS = {
    "name",
    "estimator",
    "size",
    "capacity",
    "temperature",
    "accuracy",
    "agreement",
    "kl",
    "agreement_previous",
}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=240,
        n_features=8,
        n_informative=5,
        n_classes=3,
        n_clusters_per_class=2,
        random_state=0,
    )
    return X, np.array(["ant", "bee", "cat"])[y]


def _teacher():
    return RandomForestClassifier(n_estimators=20, max_depth=6)


def _tree(depth):
    return DecisionTreeClassifier(max_depth=depth, random_state=0)


def _chain(**params):
    params.setdefault("steps", [("assistant", _tree(5)), ("student", _tree(2))])
    return ProgressiveChainClassifier(teacher=_teacher(), random_state=0, **params)


def test_stages_record_every_step(data):
    X, y = data
    chain = _chain().fit(X, y)
    assert [stage["name"] for stage in chain.stages_] == ["assistant", "student"]
    for stage in chain.stages_:
        assert set(stage) == STAGE_KEYS
        assert stage["size"] == model_size(stage["estimator"])
        assert stage["capacity"] == capacity(stage["estimator"])
        assert 0 <= stage["accuracy"] <= 1 and 0 <= stage["agreement"] <= 1
        assert stage["kl"] >= 0
    assert chain.student_ is chain.stages_[-1]["estimator"]
    assert chain.stages_[0]["capacity"] > chain.stages_[1]["capacity"]
    assert chain.student_.regressor_.get_depth() == 2
    assert chain.fidelity_ == {
        "agreement": chain.stages_[-1]["agreement"],
        "kl": chain.stages_[-1]["kl"],
    }
    assert set(chain.predict(X)) <= set(y)
    proba = chain.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(chain.classes_, ["ant", "bee", "cat"])


def test_one_step_chain_is_direct_distillation(data):
    X, y = data
    chain = _chain(steps=[("student", _tree(3))], alpha=0.7).fit(X, y)
    direct = TemperatureScheduledDistiller(
        _teacher(), _tree(3), alpha=0.7, cv=3, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(chain.predict_proba(X), direct.predict_proba(X))


def test_each_step_learns_the_previous_out_of_fold_targets(data):
    X, y = data
    first = _chain(steps=[("assistant", _tree(5))], alpha=0.6)
    assistant_oof = first.fit_transform(X, y)
    assert np.mean(first.classes_[assistant_oof.argmax(axis=1)] == y) == pytest.approx(
        first.stages_[0]["accuracy"]
    )
    # Out-of-fold targets are not the assistant's in-sample probabilities.
    assert not np.allclose(assistant_oof, first.transform(X))

    chain = _chain(alpha=0.6).fit(X, y)
    codes = np.searchsorted(chain.classes_, y)
    manual, _ = fit_soft_student(
        _tree(2), X, assistant_oof, codes, chain.classes_, alpha=0.6
    )
    np.testing.assert_allclose(chain.predict_proba(X), manual.predict_proba(X))


def test_teacher_weight_one_distils_every_step_from_the_teacher(data):
    X, y = data
    chain = _chain(teacher_weight=1.0).fit(X, y)
    only_student = TemperatureScheduledDistiller(
        _teacher(), _tree(2), cv=3, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(chain.predict_proba(X), only_student.predict_proba(X))
    weighted = _chain(teacher_weight=0.5).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), chain.predict_proba(X))


def test_fixed_random_state_and_n_jobs_give_identical_results(data):
    X, y = data
    steps = [
        ("assistant", RandomForestClassifier(n_estimators=5)),
        ("student", _tree(2)),
    ]
    runs = [
        ProgressiveChainClassifier(
            steps, teacher=_teacher(), random_state=3, n_jobs=n_jobs
        ).fit(X, y)
        for n_jobs in (1, 1, 2)
    ]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].predict_proba(X), other.predict_proba(X))
        for a, b in zip(runs[0].stages_, other.stages_):
            assert {k: v for k, v in a.items() if k != "estimator"} == {
                k: v for k, v in b.items() if k != "estimator"
            }


def test_per_stage_temperatures(data):
    X, y = data
    chain = _chain(temperature=[3.0, 1.5]).fit(X, y)
    assert [stage["temperature"] for stage in chain.stages_] == [3.0, 1.5]
    with pytest.raises(ValueError, match="2 steps"):
        _chain(temperature=[2.0]).fit(X, y)
    with pytest.raises(ValueError, match="positive"):
        _chain(temperature=[2.0, -1.0]).fit(X, y)
    with pytest.raises(ValueError, match="one temperature"):
        _chain(steps="auto", temperature=[2.0, 1.0]).fit(X, y)


def test_set_params_reaches_named_steps(data):
    X, y = data
    chain = _chain()
    assert chain.get_params()["student__max_depth"] == 2
    chain.set_params(student__max_depth=1).fit(X, y)
    assert chain.student_.regressor_.get_depth() == 1
    assert chain.steps[1][1].get_params()["max_depth"] == 1


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(steps=[]), "at least one"),
        (dict(steps=[_tree(2)]), "tuple"),
        (dict(steps=[("a", _tree(2)), ("a", _tree(1))]), "not unique"),
        (dict(steps=[("svm", LinearSVC())]), "predict_proba"),
        (dict(auto_student=_tree(2)), "auto_student"),
    ],
)
def test_invalid_steps(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        _chain(**params).fit(X, y)


def test_does_not_fit_or_mutate_user_estimators(data):
    X, y = data
    steps = [("assistant", _tree(5)), ("student", _tree(2))]
    before = [clone(step).get_params() for _, step in steps]
    _chain(steps=steps).fit(X, y)
    assert not any(hasattr(step, "tree_") for _, step in steps)
    assert [step.get_params() for _, step in steps] == before


def test_ladder_interpolates_capacity_knobs():
    xgb = pytest.importorskip("xgboost")
    student = xgb.XGBClassifier(n_estimators=30, max_depth=3)
    teacher = xgb.XGBClassifier(n_estimators=300, max_depth=6)
    bounds = _ladder_bounds(student, teacher)
    assert bounds == {"n_estimators": (30, 300), "max_depth": (3, 6)}
    assert _rung_params(bounds, 0.0) == {"n_estimators": 30, "max_depth": 3}
    assert _rung_params(bounds, 1.0) == {"n_estimators": 300, "max_depth": 6}
    assert _rung_params(bounds, 0.5) == {"n_estimators": 95, "max_depth": 4}
    assert _ladder_bounds(student, FrozenEstimator(teacher)) == bounds
    # HPMKDClassifier(use_chain=True) hands its chain the fitted teacher,
    # frozen, with its targets: the ladder still stops at the teacher.
    targets = np.full((4, 2), 0.5)
    precomputed = PrecomputedTeacher(FrozenEstimator(teacher), targets)
    assert _ladder_bounds(student, precomputed) == bounds
    # Another family: the top of the ladder is the student grown by fixed factors.
    assert _ladder_bounds(_tree(2), teacher) == {"max_depth": (2, 5)}
    assert _ladder_bounds(LogisticRegression(), teacher) == {}


def test_auto_inserts_assistants_only_when_they_help(data):
    X, y = data
    chain = _chain(steps="auto", auto_student=_tree(1), fidelity_gap=0.0).fit(X, y)
    assert chain.trials_
    kept = [trial for trial in chain.trials_ if trial["kept"]]
    assert len(chain.stages_) == 1 + len(kept)
    for trial in chain.trials_:
        margin = trial["wins"] - trial["losses"]
        assert trial["kept"] == (margin > 2 * np.sqrt(trial["wins"] + trial["losses"]))
        assert trial["after"] - trial["before"] == pytest.approx(margin / len(y))
    assert chain.stages_[-1]["name"] == "student"
    assert chain.student_.regressor_.get_depth() == 1
    capacities = [stage["capacity"] for stage in chain.stages_]
    assert capacities == sorted(capacities, reverse=True)

    no_gap = _chain(steps="auto", auto_student=_tree(1), fidelity_gap=1.0).fit(X, y)
    assert no_gap.trials_ == []
    assert [stage["name"] for stage in no_gap.stages_] == ["student"]
    assert _chain().fit(X, y).trials_ == []

    default = ProgressiveChainClassifier(
        teacher=_teacher(), auto_student=_tree(1), fidelity_gap=0.0, random_state=0
    ).fit(X, y)
    assert default.trials_ == chain.trials_
    np.testing.assert_array_equal(default.predict_proba(X), chain.predict_proba(X))


def _chain_keeping_every_assistant(data, monkeypatch, **params):
    """A fitted auto chain in which every assistant counts as a clear win."""
    monkeypatch.setattr(_chain_module, "_paired_agreement", lambda *args: (100, 0))
    params = {"auto_student": _tree(1), **params}
    return _chain(steps="auto", fidelity_gap=0.0, **params).fit(*data)


def test_auto_keeps_helpful_assistants_up_to_max_assistants(data, monkeypatch):
    # The ladder is bisected until max_assistants or the rungs run out.
    chain = _chain_keeping_every_assistant(data, monkeypatch, max_assistants=2)
    assert [trial["kept"] for trial in chain.trials_] == [True, True]
    assert [stage["name"] for stage in chain.stages_] == [
        "assistant_1",
        "assistant_2",
        "student",
    ]
    depths = [stage["estimator"].regressor_.get_depth() for stage in chain.stages_]
    assert depths == sorted(depths, reverse=True) and depths[-1] == 1
    assert len(set(depths)) == 3


def test_zero_assistants_distils_the_student_directly(data, monkeypatch):
    chain = _chain_keeping_every_assistant(data, monkeypatch, max_assistants=0)
    assert chain.trials_ == []
    assert [stage["name"] for stage in chain.stages_] == ["student"]


def test_auto_ladder_of_a_pipeline_grows_its_last_step(data, monkeypatch):
    student = make_pipeline(StandardScaler(), _tree(1))
    chain = _chain_keeping_every_assistant(
        data, monkeypatch, auto_student=student, max_assistants=1
    )
    assert list(chain.trials_[0]["params"]) == ["decisiontreeclassifier__max_depth"]
    assistant, deployed = (stage["estimator"] for stage in chain.stages_)
    assert isinstance(assistant, Pipeline)
    assert assistant[-1].max_depth == 2 and deployed[-1].max_depth == 1
    assert student[-1].max_depth == 1


@pytest.mark.parametrize(
    "student", [LogisticRegression(), DecisionTreeClassifier(max_depth=None)]
)
def test_auto_student_without_capacity_knobs_is_warned_about(data, student):
    X, y = data
    with pytest.warns(UserWarning, match=type(student).__name__ + " has no capacity"):
        chain = _chain(steps="auto", auto_student=student).fit(X, y)
    assert [stage["name"] for stage in chain.stages_] == ["student"]


@pytest.mark.parametrize(
    "teacher, student, sizes",
    [
        (_tree(2), _tree(5), r"max_depth=5 \(teacher: 2\)"),
        (_tree(5), _tree(5), r"max_depth=5 \(teacher: 5\)"),
        (
            RandomForestClassifier(n_estimators=3, max_depth=2),
            make_pipeline(
                StandardScaler(), RandomForestClassifier(n_estimators=5, max_depth=3)
            ),
            r"n_estimators=5 \(teacher: 3\), max_depth=3 \(teacher: 2\)",
        ),
    ],
    ids=["larger", "equal", "pipeline"],
)
def test_auto_student_as_large_as_its_teacher_is_warned_about(
    data, teacher, student, sizes
):
    # Its capacity knobs are set; the teacher leaves them no room to grow.
    X, y = data
    chain = ProgressiveChainClassifier(
        teacher=teacher, auto_student=student, random_state=0
    )
    name = type(teacher).__name__
    message = (
        f"auto_student {name} is already as large as the teacher {name}, or "
        rf"larger \({sizes}\), so there is no room for an assistant between them"
    )
    with pytest.warns(UserWarning, match=message) as record:
        chain.fit(X, y)
    assert not any("no capacity parameter" in str(w.message) for w in record)
    assert [stage["name"] for stage in chain.stages_] == ["student"]
    assert chain.trials_ == []


@pytest.mark.parametrize(
    "make_params, message",
    [
        (
            lambda frozen: dict(steps=[("assistant", frozen), ("student", _tree(2))]),
            "Step 'assistant' must be an unfitted classifier",
        ),
        (
            lambda frozen: dict(steps=[("assistant", _tree(5)), ("student", frozen)]),
            "Step 'student' must be an unfitted classifier",
        ),
        (
            lambda frozen: dict(
                steps=[("student", make_pipeline(StandardScaler(), frozen))]
            ),
            "Step 'student' must be an unfitted classifier",
        ),
        (
            lambda frozen: dict(steps="auto", auto_student=frozen),
            "auto_student must be an unfitted classifier",
        ),
    ],
    ids=["assistant", "student", "pipeline", "auto_student"],
)
def test_a_frozen_step_is_refused_before_any_fit(
    data, monkeypatch, make_params, message
):
    X, y = data
    frozen = FrozenEstimator(_tree(2).fit(X, y))

    def no_fit(*args, **kwargs):
        raise AssertionError("the teacher was fitted")

    monkeypatch.setattr(_chain_module, "fit_teacher", no_fit)
    with pytest.raises(ValueError, match=message + ".*got a FrozenEstimator"):
        _chain(**make_params(frozen)).fit(X, y)


def _cross_fitted_chain(cv, **params):
    """A chain whose teacher is cross-fitted on ``cv`` (a forest's is out-of-bag)."""
    params.setdefault("steps", [("assistant", _tree(5)), ("student", _tree(2))])
    teacher = LogisticRegression(max_iter=1000)
    return ProgressiveChainClassifier(teacher=teacher, cv=cv, random_state=0, **params)


class _CountingKFold(KFold):
    """A ``KFold`` that counts the calls to its ``split``."""

    calls = 0

    def split(self, X, y=None, groups=None):
        self.calls += 1
        return super().split(X, y, groups)


@pytest.mark.parametrize(
    "params",
    [{}, dict(steps="auto", auto_student=_tree(1), fidelity_gap=0.0)],
    ids=["steps", "auto"],
)
def test_the_teacher_and_every_step_share_one_split(data, params):
    X, y = data
    cv = _CountingKFold(3, shuffle=True)
    _cross_fitted_chain(cv, **params).fit(X, y)
    assert cv.calls == 1


@pytest.mark.parametrize("seed", ["global", "instance"])
def test_an_unseeded_shuffling_splitter_gives_the_fit_on_its_folds(data, seed):
    # Its folds change with every call to split; drawn once, they serve the
    # teacher and every step, so the fit is the one on those folds as a list,
    # and two fits from the same draws give identical predictions.
    X, y = data

    def shuffling():
        if seed == "global":
            np.random.seed(0)
            return KFold(3, shuffle=True)
        return KFold(3, shuffle=True, random_state=np.random.RandomState(0))

    first = _cross_fitted_chain(shuffling())
    oof = first.fit_transform(X, y)
    second = _cross_fitted_chain(shuffling()).fit(X, y)
    listed = _cross_fitted_chain(list(shuffling().split(X, y)))
    np.testing.assert_array_equal(listed.fit_transform(X, y), oof)
    for chain in (first, second):
        np.testing.assert_array_equal(chain.predict_proba(X), listed.predict_proba(X))
        assert chain.stages_[-1]["agreement"] == listed.stages_[-1]["agreement"]


def test_chain_is_a_teacher_through_its_out_of_fold_targets(data):
    X, y = data
    chain = _chain()
    distiller = TemperatureScheduledDistiller(chain, _tree(2), random_state=0)
    distiller.fit(X, y)
    assert isinstance(distiller.teacher_, ProgressiveChainClassifier)
    assert distiller.fidelity_["agreement"] > 0.8


def test_frozen_teacher(data):
    X, y = data
    teacher = _teacher().set_params(random_state=0).fit(X, y)
    chain = ProgressiveChainClassifier(
        [("student", _tree(2))], teacher=FrozenEstimator(teacher), random_state=0
    ).fit(X, y)
    student_oof = chain.fit_transform(X, y)
    # The user's fitted teacher is used as it is: neither refitted nor copied.
    assert chain.teacher_.estimator is teacher
    np.testing.assert_array_equal(chain.classes_, teacher.classes_)
    # A frozen teacher's targets are its plain probabilities, columns by label.
    assert chain.fidelity_["agreement"] == top1_agreement(
        teacher.predict_proba(X), student_oof
    )


def test_cross_family_chain_with_xgboost_student(data):
    pytest.importorskip("xgboost")
    X, y = data
    chain = ProgressiveChainClassifier(
        cross_family_steps(), teacher=_teacher(), random_state=0
    )
    chain.set_params(
        forest__n_estimators=5, gbm__n_estimators=5, xgboost__n_estimators=5
    ).fit(X, y)
    assert [stage["name"] for stage in chain.stages_] == [
        "logistic",
        "tree",
        "forest",
        "gbm",
        "xgboost",
    ]
    assert set(chain.predict(X)) <= set(y)
    assert chain.stages_[0]["size"] == 3 * 8 + 3


def test_a_listed_temperature_must_be_finite():
    X, y = make_classification(n_samples=60, random_state=0)
    chain = ProgressiveChainClassifier(
        [("s", LogisticRegression())], temperature=[np.inf], cv=3
    )
    with pytest.raises(ValueError, match="positive finite number, got inf"):
        chain.fit(X, y)


def test_a_listed_temperature_is_checked_as_one_temperature_is():
    """scikit-learn's check of one temperature takes True as 1 and refuses
    False; each listed temperature is a number in the same way."""
    X, y = make_classification(n_samples=60, random_state=0)
    steps = [("a", DecisionTreeClassifier(max_depth=2)), ("b", LogisticRegression())]

    def chain(temperature):
        return ProgressiveChainClassifier(steps, temperature=temperature, cv=3)

    np.testing.assert_allclose(
        chain([True, 2.0]).fit(X, y).predict_proba(X),
        chain([1.0, 2.0]).fit(X, y).predict_proba(X),
    )
    np.testing.assert_allclose(
        chain(True).fit(X, y).predict_proba(X), chain(1.0).fit(X, y).predict_proba(X)
    )
    with pytest.raises(ValueError, match="positive finite number, got False"):
        chain([False, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match="'temperature' parameter"):
        chain(False).fit(X, y)


def test_a_one_shot_iterable_of_splits_serves_the_whole_fit():
    from sklearn.model_selection import StratifiedKFold

    from skhpmkd import HPMKDClassifier, PyramidTeacherClassifier

    X, y = make_classification(
        n_samples=150, n_classes=3, n_informative=4, random_state=0
    )
    models = [
        ProgressiveChainClassifier([("s", DecisionTreeClassifier(max_depth=3))]),
        PyramidTeacherClassifier(LogisticRegression()),
        HPMKDClassifier(LogisticRegression(), students=["dt"], budget=2),
    ]
    for model in models:
        splits = StratifiedKFold(3).split(X, y)  # a generator, used up once read
        model.set_params(cv=splits, random_state=0).fit(X, y)
        reused = model.set_params(cv=list(StratifiedKFold(3).split(X, y)))
        expected = clone(reused).fit(X, y).predict_proba(X)
        np.testing.assert_allclose(model.predict_proba(X), expected)


def test_steps_of_unknown_size_are_distilled_and_left_unmeasured(data):
    X, y = data
    chain = _chain(
        steps=[("bayes", GaussianNB()), ("neighbours", KNeighborsClassifier())]
    )
    with pytest.warns(UserWarning, match="KNeighborsClassifier.fit takes no"):
        chain.fit(X, y)
    assert [stage["size"] for stage in chain.stages_] == [None, None]
    assert [stage["capacity"] for stage in chain.stages_] == [None, None]
    assert np.allclose(chain.predict_proba(X).sum(axis=1), 1.0)


def test_tree_steps_do_not_compound_the_temperature():
    # A tree fitted at T predicts tempered targets; the next step must get
    # them back at T = 1, or three steps would learn the teacher at T^3.
    X, y = make_classification(
        n_samples=400, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    steps = [(name, DecisionTreeClassifier(max_depth=6)) for name in "abc"]
    chain = ProgressiveChainClassifier(
        steps,
        teacher=RandomForestClassifier(n_estimators=50, random_state=0),
        temperature=3.0,
        alpha=1.0,
        random_state=0,
    ).fit(X, y)
    confidence = [
        stage["estimator"].predict_proba(X).max(axis=1).mean()
        for stage in chain.stages_
    ]
    assert confidence[-1] > 0.9 * confidence[0]


def test_the_ladder_grows_the_rounds_lightgbm_obeys():
    # An alias such as num_iterations replaces n_estimators in LightGBM: the
    # ladder grew n_estimators, which LightGBM ignored, and compared it with
    # the teacher's, saying the student was as large as the teacher already.
    lightgbm = pytest.importorskip("lightgbm")
    student = lightgbm.LGBMClassifier(num_iterations=5, num_leaves=4, verbose=-1)
    teacher = lightgbm.LGBMClassifier(num_iterations=200, verbose=-1)
    assert _ladder_bounds(student, teacher) == {
        "num_leaves": (4, 31),
        "num_iterations": (5, 200),
    }
    other_family = _ladder_bounds(student, RandomForestClassifier())
    assert other_family["num_iterations"] == (5, 40)
    assert "n_estimators" not in other_family
    # Spelled differently on the two sides, the rounds still compare.
    teacher = lightgbm.LGBMClassifier(n_estimators=50, verbose=-1)
    assert _ladder_bounds(student, teacher)["num_iterations"] == (5, 50)
    assert _ladder_bounds(
        lightgbm.LGBMClassifier(n_estimators=5, verbose=-1),
        lightgbm.LGBMClassifier(num_trees=80, verbose=-1),
    ) == {"n_estimators": (5, 80)}


def test_a_dropped_assistant_is_left_out_and_searchable():
    X, y = load_wine(return_X_y=True)
    teacher = DecisionTreeClassifier(max_depth=5, random_state=0)
    student = DecisionTreeClassifier(max_depth=2)
    dropped = ProgressiveChainClassifier(
        [("assistant", "drop"), ("student", student)],
        teacher=teacher,
        temperature=[5.0, 2.0],
        random_state=0,
    ).fit(X, y)
    direct = ProgressiveChainClassifier(
        [("student", student)], teacher=teacher, temperature=[2.0], random_state=0
    ).fit(X, y)
    assert len(dropped.stages_) == 1
    assert_allclose(dropped.predict_proba(X), direct.predict_proba(X))
    # A search can try the chain with and without the assistant.
    chain = ProgressiveChainClassifier(
        [("assistant", DecisionTreeClassifier(max_depth=4)), ("student", student)],
        teacher=teacher,
        random_state=0,
    )
    search = GridSearchCV(
        chain, {"assistant": ["drop", DecisionTreeClassifier(max_depth=4)]}, cv=3
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    with pytest.raises(ValueError, match="'student', is the student and cannot be"):
        ProgressiveChainClassifier(
            [("assistant", DecisionTreeClassifier()), ("student", "drop")],
            teacher=teacher,
        ).fit(X, y)
