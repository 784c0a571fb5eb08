"""TemperatureScheduledDistiller: behaviour, integration with sklearn tools, errors."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import TemperatureScheduledDistiller
from skhpmkd._soft_targets import fit_soft_student
from skhpmkd._students import SoftTargetClassifier


def _light(**params):
    defaults = dict(
        teacher=RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0),
        student=DecisionTreeClassifier(max_depth=3),
        cv=3,
        random_state=0,
    )
    return TemperatureScheduledDistiller(**{**defaults, **params})


@pytest.fixture(scope="module")
def four_class():
    return make_classification(
        n_samples=400,
        n_features=8,
        n_informative=6,
        n_redundant=0,
        n_classes=4,
        n_clusters_per_class=1,
        random_state=0,
    )


def test_xgboost_student_agrees_with_teacher_more_than_hard_label_student():
    """Depth-3, 30-round XGBoost on a 4-class 20k-row task, held-out agreement.

    Part of the gain comes from the KD objective's exact diagonal Hessian
    ``p (1 - p)``, which takes twice XGBoost's built-in multiclass step
    (``2 p (1 - p)``); the comparison is the one a user makes: the same
    ``XGBClassifier`` settings with and without the distiller.
    """
    xgboost = pytest.importorskip("xgboost")
    X, y = make_classification(
        n_samples=20_000,
        n_features=20,
        n_informative=12,
        n_classes=4,
        n_clusters_per_class=2,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    student = xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1)
    distiller = TemperatureScheduledDistiller(
        HistGradientBoostingClassifier(max_iter=150, early_stopping=False),
        student,
        alpha=0.7,
        cv=3,
        random_state=0,
    ).fit(X_train, y_train)
    teacher_pred = distiller.teacher_.predict(X_test)
    hard = xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0)
    hard.fit(X_train, y_train)
    distilled_agreement = np.mean(distiller.predict(X_test) == teacher_pred)
    hard_agreement = np.mean(hard.predict(X_test) == teacher_pred)
    assert distilled_agreement > hard_agreement + 0.01
    assert distiller.student_.get_booster().num_boosted_rounds() == 30


def test_fitted_attributes(four_class):
    X, y = four_class
    distiller = _light(temperature=2.0).fit(X, y)
    assert_array_equal(distiller.classes_, [0, 1, 2, 3])
    assert distiller.n_features_in_ == 8
    assert isinstance(distiller.student_, SoftTargetClassifier)
    assert_allclose(distiller.temperatures_, [2.0])
    assert set(distiller.fidelity_) == {"agreement", "kl"}
    assert 0.5 < distiller.fidelity_["agreement"] <= 1.0
    assert distiller.fidelity_["kl"] >= 0.0
    proba = distiller.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(distiller.predict(X), distiller.classes_[proba.argmax(axis=1)])


def test_student_only_at_predict_time(four_class):
    X, y = four_class
    distiller = _light().fit(X, y)
    expected = distiller.predict_proba(X)
    distiller.teacher_ = None
    assert_allclose(distiller.predict_proba(X), expected)


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine", "adaptive"])
def test_round_based_student_records_its_schedule(schedule, four_class):
    xgboost = pytest.importorskip("xgboost")
    X, y = four_class
    distiller = _light(
        student=xgboost.XGBClassifier(n_estimators=6, max_depth=2, n_jobs=1),
        temperature=3.0,
        final_temperature=1.0,
        schedule=schedule,
    ).fit(X, y)
    temperatures = distiller.temperatures_
    assert len(temperatures) == 6
    assert temperatures[0] == pytest.approx(3.0)
    if schedule == "constant":
        assert_allclose(temperatures, 3.0)
    elif schedule in ("linear", "cosine"):
        assert temperatures[-1] == pytest.approx(1.0)
        assert np.all(np.diff(temperatures) < 0)
    else:
        assert np.all((temperatures >= 1.0) & (temperatures <= 3.0))
        assert temperatures[-1] < 3.0


def test_lightgbm_rounds_set_by_an_alias_end_the_schedule(four_class):
    lightgbm = pytest.importorskip("lightgbm")
    X, y = four_class
    student = lightgbm.LGBMClassifier(num_iterations=7, n_jobs=1, verbose=-1)
    distiller = _light(
        student=student, temperature=3.0, final_temperature=1.0, schedule="linear"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # LightGBM: "Found num_iterations"
        distiller.fit(X, y)
    assert_allclose(distiller.temperatures_, np.linspace(3.0, 1.0, 7))


def test_boosted_student_whose_objective_never_ran_keeps_its_temperature():
    # Zero rounds: the KD objective is never called. transform, and so a
    # distiller as another's teacher, needs the temperature all the same.
    xgboost = pytest.importorskip("xgboost")
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(),
        xgboost.XGBClassifier(n_estimators=0),
        temperature=2.0,
        cv=3,
        random_state=0,
    )
    soft = distiller.fit_transform(X, y)
    assert_allclose(distiller.temperatures_, [2.0])
    assert_allclose(soft.sum(axis=1), 1.0)
    assert_allclose(distiller.transform(X).sum(axis=1), 1.0)


@pytest.mark.parametrize("n_rows", [30, 40])
def test_lightgbm_student_with_too_few_rows_predicts_the_prior(n_rows, capfd):
    # LightGBM bins away every feature of so few rows; its custom objective
    # would crash, so the student fits the class prior, with a warning. Below
    # twice the smallest leaf (20 rows) that is known before the crash and its
    # "Fatal" line; at 40 rows LightGBM crashes and the crash is caught.
    lightgbm = pytest.importorskip("lightgbm")
    X, y = make_classification(n_samples=n_rows, n_features=4, random_state=0)
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(),
        lightgbm.LGBMClassifier(n_estimators=5, verbose=-1),
        temperature=2.0,
        cv=3,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="LightGBM found no feature to split on"):
        distiller.fit(X, y)
    prior = np.bincount(y) / n_rows
    assert_allclose(distiller.predict_proba(X), np.tile(prior, (n_rows, 1)))
    assert_allclose(distiller.temperatures_, [2.0])
    assert_allclose(distiller.transform(X).sum(axis=1), 1.0)
    if n_rows < 40:
        assert "Fatal" not in "".join(capfd.readouterr())


@pytest.mark.parametrize("alias", ["min_child_samples", "min_samples_leaf"])
def test_lightgbm_student_with_small_leaves_learns_from_few_rows(alias):
    lightgbm = pytest.importorskip("lightgbm")
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    student = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1, **{alias: 5})
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(), student, cv=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        distiller.fit(X, y)
    assert len(np.unique(distiller.predict_proba(X)[:, 1].round(6))) > 2


def test_standardized_logits_of_two_classes_are_warned_about():
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(), DecisionTreeClassifier(max_depth=2),
        standardize_logits=True, cv=3, random_state=0,
    )  # fmt: skip
    with pytest.warns(UserWarning, match="two classes gives every row the same"):
        targets = distiller.fit_transform(X, y)
    # Every row's target is the same confidence in the teacher's class.
    assert_allclose(targets.max(axis=1), 1 / (1 + np.exp(-2.0)))


def test_transform_gives_tempered_teacher_targets(four_class):
    X, y = four_class
    distiller = _light(temperature=2.0).fit(X, y)
    soft = distiller.transform(X)
    teacher = distiller.teacher_.predict_proba(X)
    expected = teacher**0.5 / np.sum(teacher**0.5, axis=1, keepdims=True)
    assert_allclose(soft, expected, atol=1e-6)
    names = distiller.get_feature_names_out()
    assert list(names) == [f"temperaturescheduleddistiller_proba_{c}" for c in range(4)]
    # input_features is checked as scikit-learn's transformers check it.
    inputs = [f"x{j}" for j in range(X.shape[1])]
    assert list(distiller.get_feature_names_out(inputs)) == list(names)
    with pytest.raises(ValueError, match="input_features should have length"):
        distiller.get_feature_names_out(["a", "b"])


def test_fit_transform_is_out_of_fold(four_class):
    X, y = four_class
    distiller = _light(teacher=DecisionTreeClassifier(random_state=0))
    oof = distiller.fit_transform(X, y)
    in_sample = distiller.transform(X)
    # A fully grown tree is certain on its own training rows; out of fold it is
    # wrong on some of them.
    assert_allclose(in_sample.max(axis=1), 1.0)
    assert np.mean(oof.argmax(axis=1) != y) > 0.05


def test_out_of_bag_teacher_needs_a_single_fit(four_class):
    X, y = four_class
    teacher = RandomForestClassifier(n_estimators=40, random_state=0)
    distiller = _light(teacher=teacher).fit(X, y)
    assert distiller.teacher_.oob_score is True
    assert teacher.get_params()["oob_score"] is False
    oob_targets = distiller.fit_transform(X, y)
    assert_allclose(oob_targets, distiller.teacher_.oob_decision_function_, atol=1e-12)


def test_frozen_teacher_is_used_as_is(four_class):
    X, y = four_class
    labels = np.array(["w", "x", "y", "z"])[y]
    teacher = LogisticRegression(max_iter=500).fit(X, labels)
    distiller = _light(teacher=FrozenEstimator(teacher)).fit(X, labels)
    assert distiller.teacher_.estimator is teacher
    assert_allclose(distiller.transform(X), teacher.predict_proba(X))
    assert set(distiller.predict(X)) <= set(labels)


def test_frozen_teacher_with_other_classes_is_rejected(four_class):
    X, y = four_class
    teacher = FrozenEstimator(LogisticRegression(max_iter=500).fit(X, y))
    with pytest.raises(
        ValueError, match=r"classes \[0, 1, 2, 3\].*y has classes \[1, 2, 3, 4\]"
    ):
        _light(teacher=teacher).fit(X, y + 1)


def test_augmentation_and_unlabelled_rows_reach_the_student(four_class):
    X, y = four_class
    plain = _light(student=DecisionTreeClassifier(random_state=0)).fit(X, y)
    augmented = _light(student=DecisionTreeClassifier(random_state=0), augment=2.0)
    augmented.fit(X, y)
    n_leaves = augmented.student_.regressor_.get_n_leaves()
    assert n_leaves > plain.student_.regressor_.get_n_leaves()
    rng = np.random.RandomState(0)
    X_unlabeled = X + rng.normal(scale=0.1, size=X.shape)
    with_rows = _light(student=DecisionTreeClassifier(random_state=0))
    with_rows.fit(X, y, X_unlabeled=X_unlabeled)
    leaf_values = with_rows.student_.predict_proba(X_unlabeled)
    teacher_values = with_rows.teacher_.predict_proba(X_unlabeled)
    assert_allclose(leaf_values, teacher_values, atol=1e-8)


def test_both_transfer_generators_reach_the_student(four_class):
    X, y = four_class
    n_leaves = {}
    for method in ("interpolate", "munge"):
        distiller = _light(
            student=DecisionTreeClassifier(random_state=0),
            augment=3.0,
            augment_method=method,
        ).fit(X, y)
        n_leaves[method] = distiller.student_.regressor_.get_n_leaves()
    plain = _light(student=DecisionTreeClassifier(random_state=0)).fit(X, y)
    # A fully grown tree has a leaf per distinct soft target: the transfer
    # rows add their own, and the two generators make different rows.
    assert min(n_leaves.values()) > plain.student_.regressor_.get_n_leaves()
    assert n_leaves["interpolate"] != n_leaves["munge"]


def test_unlabelled_rows_must_match_feature_count(four_class):
    X, y = four_class
    with pytest.raises(ValueError, match="X_unlabeled has 3 features, but X has 8"):
        _light().fit(X, y, X_unlabeled=np.zeros((5, 3)))


@pytest.mark.parametrize(
    "unlabelled, message",
    [
        # Weights passed by position land in X_unlabeled.
        (
            "weights",
            r"X_unlabeled, the third argument of fit, must be 2-D .* "
            r"shape \(\d+,\)\. Row weights go in sample_weight=",
        ),
        ("empty", "X_unlabeled: Found array with 0 sample"),
        ("inf", "X_unlabeled: Input X_unlabeled contains infinity"),
    ],
)
def test_bad_unlabelled_rows_are_named(four_class, unlabelled, message):
    X, y = four_class
    rows = {
        "weights": np.ones(len(y)),
        "empty": np.zeros((0, X.shape[1])),
        "inf": np.full((3, X.shape[1]), np.inf),
    }[unlabelled]
    with pytest.raises(ValueError, match=message):
        _light().fit(X, y, rows)


def test_nan_in_unlabelled_rows_names_the_model_that_refuses_it(four_class):
    X, y = four_class
    rows = X[:3].copy()
    rows[0, 0] = np.nan
    student = make_pipeline(StandardScaler(), LogisticRegression())
    message = (
        r"^Input X_unlabeled contains NaN\. TemperatureScheduledDistiller gives "
        r"X_unlabeled to Pipeline \(the student\), which does not accept"
    )
    with pytest.raises(ValueError, match=message):
        _light(student=student).fit(X, y, rows)


def test_logistic_student_gets_margins_scaled_by_temperature(four_class):
    X, y = four_class

    def student():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))

    distiller = _light(student=student(), temperature=3.0)
    tempered_targets = distiller.fit_transform(X, y)
    assert distiller.score(X, y) > 0.7
    # The same targets learnt at T = 1: margins exactly 3 times smaller.
    at_one, _ = fit_soft_student(
        student(), X, tempered_targets, y, np.arange(4), alpha=distiller.alpha
    )
    assert_allclose(distiller.student_[-1].coef_, 3.0 * at_one[-1].coef_, rtol=1e-8)


def test_pipeline_grid_search_and_cross_validation():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), _light())
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.85
    search = GridSearchCV(
        pipe,
        {
            "temperaturescheduleddistiller__temperature": [1.0, 3.0],
            "temperaturescheduleddistiller__alpha": [0.3, 0.9],
        },
        cv=3,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.85


@pytest.mark.parametrize("dump_load", ["pickle", "joblib"])
def test_round_trip_gives_identical_predictions(dump_load, four_class, tmp_path):
    X, y = four_class
    distiller = _light().fit(X, y)
    if dump_load == "pickle":
        restored = pickle.loads(pickle.dumps(distiller))
    else:
        joblib.dump(distiller, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    assert_array_equal(restored.predict_proba(X), distiller.predict_proba(X))


def test_deterministic_and_independent_of_n_jobs(four_class):
    X, y = four_class
    teacher = HistGradientBoostingClassifier(max_iter=20)
    one = _light(teacher=teacher, n_jobs=1).fit(X, y)
    two = _light(teacher=teacher, n_jobs=2).fit(X, y)
    again = _light(teacher=teacher, n_jobs=1).fit(X, y)
    assert_array_equal(one.predict_proba(X), two.predict_proba(X))
    assert_array_equal(one.predict_proba(X), again.predict_proba(X))


def test_inputs_are_not_mutated(four_class):
    X, y = four_class
    X_copy, y_copy = X.copy(), y.copy()
    teacher = RandomForestClassifier(n_estimators=10)
    student = DecisionTreeClassifier(max_depth=3)
    params = (teacher.get_params(), student.get_params())
    TemperatureScheduledDistiller(teacher, student, augment=1.0, cv=3).fit(X, y)
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
    assert (teacher.get_params(), student.get_params()) == params
    assert not hasattr(teacher, "estimators_")
    assert not hasattr(student, "tree_")


def test_missing_values_work_when_both_models_handle_them(four_class):
    X, y = four_class
    X = X.copy()
    X[::7, 2] = np.nan
    distiller = _light(teacher=HistGradientBoostingClassifier(max_iter=20), augment=0.5)
    distiller.fit(X, y)
    assert np.isfinite(distiller.predict_proba(X)).all()


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_values_are_rejected_otherwise(value, four_class):
    X, y = four_class
    X = X.copy()
    X[3, 1] = value
    student = make_pipeline(StandardScaler(), LogisticRegression())
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        _light(student=student).fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(temperature=0.0), "'temperature' parameter .* Got 0.0"),
        (dict(temperature=-1.0), "'temperature' parameter .* Got -1.0"),
        (dict(alpha=1.5), "'alpha' parameter .* Got 1.5"),
        (dict(alpha=-0.1), "'alpha' parameter .* Got -0.1"),
        (dict(schedule="warm"), "'schedule' parameter .* Got 'warm'"),
        (dict(augment_method="smote"), "'augment_method' parameter .* Got 'smote'"),
        (dict(teacher=LinearSVC()), "'teacher' parameter .* Got LinearSVC"),
    ],
)
def test_invalid_parameters(params, message, four_class):
    X, y = four_class
    with pytest.raises(ValueError, match=message):
        _light(**params).fit(X, y)


def test_single_class_and_length_mismatch(four_class):
    X, y = four_class
    with pytest.raises(ValueError, match="only one class: 'a'"):
        _light().fit(X, np.full(len(X), "a"))
    with pytest.raises(
        ValueError, match=r"inconsistent numbers of samples: \[400, 399\]"
    ):
        _light().fit(X, y[:-1])


def test_huge_temperature_gives_uniform_targets(four_class):
    X, y = four_class
    distiller = _light(temperature=1e9, alpha=1.0).fit(X, y)
    assert_allclose(distiller.transform(X), 0.25, atol=1e-6)


def test_frozen_teacher_fitted_on_a_dataframe_keeps_its_feature_names(four_class):
    pd = pytest.importorskip("pandas")
    X, y = four_class
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    teacher = LogisticRegression(max_iter=500).fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        distiller = _light(teacher=FrozenEstimator(teacher)).fit(frame, y)
        distiller.transform(frame)
    assert_array_equal(distiller.feature_names_in_, frame.columns)


def test_unlabelled_rows_must_have_the_training_columns():
    pd = pytest.importorskip("pandas")
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    frame = pd.DataFrame(X, columns=list("abcd"))
    distiller = TemperatureScheduledDistiller(random_state=0, cv=3)
    with pytest.raises(
        ValueError, match=r"X_unlabeled has columns \['d', 'c', 'b', 'a'\]"
    ):
        distiller.fit(frame, y, X_unlabeled=frame[list("dcba")])
    distiller.fit(frame, y, X_unlabeled=frame)


def test_a_student_without_predict_proba_is_refused_before_fitting():
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = make_classification(n_samples=60, random_state=0)
    with pytest.raises(InvalidParameterError, match="'student' parameter"):
        TemperatureScheduledDistiller(student=LinearSVC()).fit(X, y)


class _TeacherThatMustNotBeFitted(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise AssertionError("the teacher was fitted")


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_a_frozen_student_is_refused_before_fitting(four_class, in_pipeline):
    # Distillation trains the student: a frozen one would stay as it was.
    X, y = four_class
    frozen = FrozenEstimator(DecisionTreeClassifier(max_depth=1).fit(X, y))
    if in_pipeline:
        frozen = make_pipeline(StandardScaler(), frozen)
    distiller = _light(teacher=_TeacherThatMustNotBeFitted(), student=frozen)
    with pytest.raises(ValueError, match="student must be an unfitted .* Frozen"):
        distiller.fit(X, y)


def test_a_frozen_teacher_of_another_width_is_refused_by_name():
    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    narrow = FrozenEstimator(LogisticRegression().fit(X[:, :3], y))
    message = (
        r"The pre-fitted teacher \(a FrozenEstimator of a LogisticRegression\) "
        "was fitted on 3 features, but X has 5 features."
    )
    with pytest.raises(ValueError, match=message):
        _light(teacher=narrow).fit(X, y)
