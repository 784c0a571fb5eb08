"""How teachers are fitted and asked: cross-fitting, columns, probability checks."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_wine, make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    ProgressiveChainClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)
from skhpmkd._soft_targets import aligned_proba
from skhpmkd._teachers import fit_teacher, never_out_of_bag


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True, as_frame=True)
    return X, y.to_numpy()


@pytest.mark.parametrize(
    "teacher",
    [
        LinearDiscriminantAnalysis(),
        VotingClassifier(
            [
                ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
                ("nb", GaussianNB()),
            ],
            voting="soft",
        ),
    ],
    ids=["lda", "voting"],
)
def test_a_classifier_that_transforms_is_cross_fitted(wine, teacher):
    # Its fit_transform gives features, not soft targets: the targets must be
    # the out-of-fold probabilities, as for any other classifier.
    X, y = wine
    X = X.to_numpy()
    distiller = TemperatureScheduledDistiller(
        teacher, DecisionTreeClassifier(max_depth=3, random_state=0), cv=3
    )
    targets = distiller.fit_transform(X, y)
    expected = cross_val_predict(
        teacher, X, y, cv=StratifiedKFold(3), method="predict_proba"
    )
    # The targets are clipped at 1e-12 away from zero.
    assert_allclose(targets, expected, atol=1e-9)


def _named_column_pipeline(estimator, columns):
    """A pipeline that picks its columns by name: it needs a DataFrame."""
    return make_pipeline(
        make_column_transformer((StandardScaler(), columns)), estimator
    )


def test_teachers_specialists_and_students_see_the_column_names(wine):
    X, y = wine
    columns = ["alcohol", "flavanoids", "color_intensity", "proline"]
    teacher = _named_column_pipeline(LogisticRegression(max_iter=2000), columns)
    student = _named_column_pipeline(LogisticRegression(max_iter=2000), columns)
    models = [
        TemperatureScheduledDistiller(teacher, student, cv=3),
        ProgressiveChainClassifier([("s", student)], teacher=teacher, cv=3),
        AttentionMultiTeacherClassifier(
            [("a", teacher), ("b", RandomForestClassifier(20, random_state=0))], cv=3
        ),
        PyramidTeacherClassifier(teacher, cv=3),
        HPMKDClassifier(teacher, students=[student], budget=2, cv=3, augment=0.0),
    ]
    for model in models:
        model.set_params(random_state=0).fit(X, y)
        assert model.score(X, y) > 0.8, type(model).__name__
        fitted = getattr(model, "teacher_", None) or model.teachers_[0]
        assert list(fitted.feature_names_in_) == list(X.columns)


def test_a_frozen_teacher_with_other_columns_is_refused(wine):
    X, y = wine
    teacher = FrozenEstimator(LogisticRegression(max_iter=5000).fit(X, y))
    reordered = X[X.columns[::-1]]
    with pytest.raises(ValueError, match="fitted on columns .* but X has columns"):
        TemperatureScheduledDistiller(teacher, cv=3).fit(reordered, y)
    # The same columns in the same order work; so do unnamed rows.
    assert TemperatureScheduledDistiller(teacher, cv=3).fit(X, y).score(X, y) > 0.9
    assert TemperatureScheduledDistiller(teacher, cv=3).fit(X.to_numpy(), y)


def test_a_frozen_lightgbm_teacher_on_names_with_spaces_is_accepted(wine):
    # LightGBM reports the column "a b" as "a_b"; the user's frame is right.
    lightgbm = pytest.importorskip("lightgbm")
    X, y = wine
    X = X.rename(columns=lambda name: name.replace("_", " "))
    booster = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1)
    teacher = FrozenEstimator(booster.fit(X, y))
    assert "malic_acid" in teacher.feature_names_in_
    distiller = TemperatureScheduledDistiller(teacher, cv=3, random_state=0).fit(X, y)
    assert_allclose(distiller.transform(X), booster.predict_proba(X))
    with pytest.raises(ValueError, match=r"columns \['alcohol', 'malic_acid'"):
        TemperatureScheduledDistiller(teacher, cv=3).fit(X[X.columns[::-1]], y)
    # The model may also report its names from inside a pipeline or a
    # calibration; a scaler in front reports the frame's own names.
    for wrapped in (
        make_pipeline(booster),
        CalibratedClassifierCV(booster, cv=3),
        make_pipeline(StandardScaler(), booster),
    ):
        frozen = FrozenEstimator(clone(wrapped).fit(X, y))
        distiller = TemperatureScheduledDistiller(frozen, cv=3, random_state=0)
        assert_allclose(distiller.fit(X, y).transform(X), frozen.predict_proba(X))
    # Names that a scaler recorded are the frame's own: a frame whose columns
    # only look like them once underscored is another frame.
    underscored = X.rename(columns=lambda name: name.replace(" ", "_"))
    scaled = make_pipeline(StandardScaler(), clone(booster)).fit(underscored, y)
    scaled = FrozenEstimator(scaled)
    with pytest.raises(ValueError, match="fitted on columns"):
        TemperatureScheduledDistiller(scaled, cv=3).fit(X, y)


class _BadProba(DecisionTreeClassifier):
    """A tree whose ``predict_proba`` breaks in the way ``kind`` says."""

    def __init__(self, kind="nan", max_depth=None):
        super().__init__(max_depth=max_depth)
        self.kind = kind

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        if self.kind == "nan":
            proba[0, 0] = np.nan
        elif self.kind == "negative":
            proba[0] = [-0.5, 1.0, 0.5]
        elif self.kind == "zeros":
            proba[0] = 0.0
        else:
            proba = proba[:, :2]
        return proba


@pytest.mark.parametrize(
    "kind, message",
    [
        ("nan", "returned nan; probabilities must be finite and non-negative"),
        ("negative", "returned -0.5; probabilities must be finite"),
        ("zeros", "returned a row of zeros"),
        ("columns", r"returned an array of shape \(\d+, 2\); expected \(\d+, 3\)"),
    ],
)
@pytest.mark.parametrize(
    "build",
    [
        lambda teacher: TemperatureScheduledDistiller(teacher, cv=3),
        lambda teacher: AttentionMultiTeacherClassifier(
            [("bad", teacher), ("lr", LogisticRegression(max_iter=2000))], cv=3
        ),
        lambda teacher: PyramidTeacherClassifier(teacher, cv=3),
    ],
    ids=["distiller", "multi", "pyramid"],
)
def test_a_teacher_that_returns_no_probabilities_is_named(wine, kind, message, build):
    X, y = wine
    with pytest.raises(ValueError, match=f"_BadProba.predict_proba {message}"):
        build(_BadProba(kind, max_depth=3)).fit(X.to_numpy(), y)


def test_a_string_among_named_teachers_is_reported(wine):
    X, y = wine
    teachers = [("a", "rf"), ("b", LogisticRegression())]
    for model in (
        AttentionMultiTeacherClassifier(teachers),
        HPMKDClassifier(teachers, budget=2),
    ):
        with pytest.raises(ValueError, match=r"The teacher 'a' \(str\) is not a"):
            model.fit(X, y)


def test_rows_in_every_bootstrap_sample_get_out_of_sample_targets():
    # A 3-tree forest leaves about a quarter of the rows in every bootstrap
    # sample; their targets come from a copy fitted on the other rows, never
    # from the forest that saw them.
    X, y = make_classification(n_samples=300, flip_y=0.3, random_state=0)
    forest = RandomForestClassifier(n_estimators=3, random_state=0)
    fitted, targets = fit_teacher(forest, X, y, np.array([0, 1]), cv=3)
    missing = never_out_of_bag(fitted)
    assert 0 < missing.sum() < len(y)
    others = clone(forest).fit(X[~missing], y[~missing])
    assert_allclose(targets[missing], others.predict_proba(X[missing]))
    oob = fitted.oob_decision_function_[~missing]
    assert_allclose(targets[~missing], oob / oob.sum(axis=1, keepdims=True))
    # Counted: the forest and its copy.
    model = HPMKDClassifier(forest, students=["dt"], budget=2, random_state=0)
    assert model.fit(X, y).n_teacher_fits_ == 2


@pytest.mark.parametrize(
    "build",
    [
        lambda teacher: AttentionMultiTeacherClassifier(
            [("frozen", teacher), ("tree", DecisionTreeClassifier(max_depth=3))], cv=3
        ),
        lambda teacher: PyramidTeacherClassifier(teacher, cv=3),
    ],
    ids=["multi", "pyramid"],
)
def test_a_frozen_teacher_that_imputes_lets_missing_values_in(wine, build):
    X, y = wine
    X = X.to_numpy().copy()
    X[::7, 0] = np.nan
    teacher = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    model = build(FrozenEstimator(teacher.fit(X, y))).fit(X, y)
    assert np.isfinite(model.predict_proba(X)).all()


@pytest.mark.parametrize(
    "build",
    [
        lambda teacher: AttentionMultiTeacherClassifier(
            [("a", teacher), ("b", clone(teacher))], cv=3, random_state=0
        ),
        lambda teacher: PyramidTeacherClassifier(teacher, cv=3, random_state=0),
    ],
    ids=["multi", "pyramid"],
)
def test_teachers_get_the_dataframe_with_its_dtypes(build):
    # Fused and pyramid teachers see the user's DataFrame, as in a
    # VotingClassifier: a categorical column stays one, a string column
    # reaches the teacher's own encoder.
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    code = rng.randint(0, 8, 300)
    y = np.where(np.isin(code, [1, 3, 6]), "yes", np.where(code == 0, "maybe", "no"))
    numbers = rng.randn(300)
    categorical = pd.DataFrame({"c": pd.Categorical(code), "x": numbers})
    hgb = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    model = build(hgb).fit(categorical, y)
    teachers = getattr(model, "teachers_", None) or [model.teacher_]
    assert all(
        teacher.is_categorical_.tolist() == [True, False] for teacher in teachers
    )
    assert list(model.feature_names_in_) == ["c", "x"]

    strings = pd.DataFrame({"c": np.array(list("abcdefgh"))[code], "x": numbers})
    encoded = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["c"]), remainder="passthrough"
        ),
        LogisticRegression(),
    )
    model = build(encoded).fit(strings, y)
    proba = model.predict_proba(strings)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert model.score(strings, y) > 0.8
    with pytest.raises(ValueError, match="feature names"):
        model.predict_proba(strings[["x", "c"]])


def test_a_distiller_as_teacher_labels_every_row_with_its_teacher():
    # Its fit_transform gives its teacher's out-of-fold targets; the transfer
    # rows and transform must come from that teacher too, not its student.
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    inner = TemperatureScheduledDistiller(
        RandomForestClassifier(n_estimators=50, random_state=0),
        DecisionTreeClassifier(max_depth=1),
        random_state=0,
    )
    outer = TemperatureScheduledDistiller(
        inner, DecisionTreeClassifier(max_depth=4), augment=1.0, random_state=0
    )
    soft_targets = outer.fit_transform(X, y)
    fitted_inner = outer.teacher_
    assert_allclose(outer.transform(X), fitted_inner.transform(X))
    assert_allclose(
        fitted_inner.transform(X), fitted_inner.teacher_.predict_proba(X), atol=1e-12
    )
    # Out-of-fold and full-fit forests mostly agree; the stump would not.
    agreement = np.mean(soft_targets.argmax(1) == outer.transform(X).argmax(1))
    assert agreement > 0.8


def test_a_teacher_with_pandas_output_teaches_as_with_arrays(wine):
    # Its transform returns a DataFrame whose values can be read-only under
    # pandas copy-on-write; the targets are normalised from a copy of them.
    X, y = wine
    fused = AttentionMultiTeacherClassifier(
        [("tree", DecisionTreeClassifier(max_depth=3)), ("nb", GaussianNB())],
        cv=3,
        random_state=0,
    )
    distillers = [
        TemperatureScheduledDistiller(
            teacher, DecisionTreeClassifier(max_depth=3), augment=1.0, random_state=0
        )
        for teacher in (clone(fused), clone(fused).set_output(transform="pandas"))
    ]
    targets = [distiller.fit_transform(X, y) for distiller in distillers]
    assert_allclose(targets[1], targets[0])
    assert_allclose(distillers[1].transform(X), distillers[0].transform(X))
    assert_allclose(distillers[1].predict_proba(X), distillers[0].predict_proba(X))


@pytest.mark.parametrize(
    "model",
    [
        AttentionMultiTeacherClassifier(cv=3),
        PyramidTeacherClassifier(cv=3),
    ],
    ids=["multi", "pyramid"],
)
def test_an_empty_dataframe_gets_the_usual_error(wine, model):
    X, y = wine
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        model.fit(X.iloc[:0], y[:0])
    with pytest.raises(ValueError, match=r"Found array with 0 feature\(s\)"):
        model.fit(X.iloc[:, :0], y)


def test_folds_whose_training_rows_lack_a_class_are_warned_of():
    # wine's rows are sorted by class: unshuffled folds leave one class out.
    X, y = load_wine(return_X_y=True)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0)
    message = r"folds 1, 3 \(of 3\) lack a class of the 3: the out-of-fold soft targets"
    with pytest.warns(UserWarning, match=message):
        _, targets = fit_teacher(tree, X, y, np.arange(3), cv=KFold(3))
    assert np.all(targets[y == 0, 0] == 0)  # fold 1 never saw class 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_teacher(tree, X, y, np.arange(3), cv=3)  # stratified


@pytest.mark.parametrize(
    "model",
    [
        ProgressiveChainClassifier(
            [("student", DecisionTreeClassifier(max_depth=2))],
            teacher=DecisionTreeClassifier(max_depth=3),
            cv=KFold(3),
        ),
        PyramidTeacherClassifier(
            teacher=DecisionTreeClassifier(max_depth=3), cv=KFold(3)
        ),
    ],
    ids=["chain", "pyramid"],
)
def test_folds_shared_with_the_teacher_are_checked_once(model):
    # The teacher is fitted on the folds of the steps: one warning, not two.
    X, y = load_wine(return_X_y=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clone(model).set_params(random_state=0).fit(X, y)
    assert sum("lack a class" in str(warning.message) for warning in caught) == 1


class _ReversedLogistic(ClassifierMixin, BaseEstimator):
    """A logistic regression whose ``classes_`` and columns run backwards:
    scikit-learn's API lets ``predict_proba`` follow any order of ``classes_``."""

    def fit(self, X, y, sample_weight=None):
        self.model_ = LogisticRegression(max_iter=1000).fit(
            X, y, sample_weight=sample_weight
        )
        self.classes_ = self.model_.classes_[::-1].copy()
        self.n_features_in_ = self.model_.n_features_in_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)[:, ::-1]

    def predict(self, X):
        return self.model_.predict(X)


@pytest.mark.parametrize(
    "make",
    [
        lambda model: TemperatureScheduledDistiller(model, LogisticRegression()),
        lambda model: TemperatureScheduledDistiller(LogisticRegression(), model),
        lambda model: AttentionMultiTeacherClassifier([("t", model)]),
        lambda model: ProgressiveChainClassifier([("s", model)], teacher=model),
    ],
    ids=["teacher", "student", "fused", "chain"],
)
def test_columns_follow_the_classes_in_the_order_a_model_lists_them(make):
    # They were taken in sorted order: the reversed model taught, or was
    # scored as, the opposite classes.
    X, y = make_classification(
        n_samples=150, n_classes=3, n_informative=4, random_state=0
    )
    labels = np.array(["b", "c", "a"])[y]
    ordered = make(LogisticRegression(max_iter=1000)).fit(X, labels)
    reversed_ = make(_ReversedLogistic()).fit(X, labels)
    assert_allclose(reversed_.predict_proba(X), ordered.predict_proba(X), atol=1e-12)


def test_a_model_that_predicts_a_class_it_was_not_given_is_named():
    X, y = make_classification(n_samples=60, random_state=0)
    model = LogisticRegression().fit(X, y + 5)  # classes 5 and 6
    with pytest.raises(ValueError, match=r"predicts the classes \[5, 6\], which it"):
        aligned_proba(model, X, np.arange(2))


@pytest.mark.parametrize("lone", [0, 1, 2], ids=["first", "middle", "last"])
def test_a_teacher_fold_without_a_class_is_fitted_on_the_classes_it_has(lone):
    # XGBoost takes codes 0..k-1 without a gap: where the lone row of a
    # class was held out, it refused the fold's codes [0 2] ("Invalid
    # classes inferred"); a decision tree takes them and must agree.
    X, y = make_classification(
        n_samples=90, n_classes=3, n_informative=4, random_state=1
    )
    y[y == lone] = (lone + 1) % 3
    y[0] = lone  # the lone row of its class
    xgboost = pytest.importorskip("xgboost")
    with pytest.warns(UserWarning, match="lack a class of the 3"):
        _, targets = fit_teacher(
            xgboost.XGBClassifier(n_estimators=5), X, y, np.arange(3), cv=KFold(3)
        )
    assert targets[0, lone] == 0  # its fold never saw the class
    assert_allclose(targets.sum(axis=1), 1.0)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    with pytest.warns(UserWarning, match="lack a class"):
        _, tree_targets = fit_teacher(tree, X, y, np.arange(3), cv=KFold(3))
    expected = np.zeros_like(tree_targets)
    for train, test in KFold(3).split(X):
        model = clone(tree).fit(X[train], y[train])
        expected[np.ix_(test, model.classes_)] = model.predict_proba(X[test])
    assert_array_equal(tree_targets, expected)


def test_a_teacher_fold_of_one_class_gives_it_probability_one():
    # Logistic regression and XGBoost refuse training rows of one class;
    # any model of them could only predict that class.
    X, y = make_classification(n_samples=60, random_state=0)
    y[:] = 0
    y[0] = 1
    with pytest.warns(UserWarning, match="fold 1 \\(of 3\\) lack a class"):
        _, targets = fit_teacher(LogisticRegression(), X, y, np.arange(2), cv=KFold(3))
    assert_array_equal(targets[:20], np.tile([1.0, 0.0], (20, 1)))
    assert targets[20:, 1].max() > 0


def test_an_skhpmkd_teacher_is_fitted_on_the_labels_others_on_their_codes(wine):
    # As the teachers_ and teacher_ docstrings say: an skhpmkd teacher encodes
    # the labels itself, so it predicts labels; the others predict codes.
    X, y = wine
    labels = np.array(["a", "b", "c"])[y]
    pyramid = PyramidTeacherClassifier(GaussianNB(), cv=3)
    fused = AttentionMultiTeacherClassifier(
        [("nb", GaussianNB()), ("pyramid", pyramid)], cv=3
    ).fit(X, labels)
    nb, fitted_pyramid = fused.teachers_
    assert_array_equal(
        fused.classes_[nb.predict(X)], GaussianNB().fit(X, labels).predict(X)
    )
    assert_array_equal(fitted_pyramid.classes_, fused.classes_)
    assert set(fitted_pyramid.predict(X)) <= set(labels)

    outer = PyramidTeacherClassifier(pyramid, cv=3).fit(X, labels)
    assert_array_equal(outer.teacher_.classes_, fused.classes_)
    assert_array_equal(clone(pyramid).fit(X, labels).teacher_.classes_, [0, 1, 2])
