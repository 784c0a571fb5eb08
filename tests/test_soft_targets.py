"""The soft-target engine: exactness of each family's mechanism."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from scipy.stats import norm
from sklearn import config_context
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skhpmkd import TemperatureScheduledDistiller
from skhpmkd._soft_targets import (
    MIN_TARGET_WEIGHT,
    aligned_proba,
    duplicate_rows,
    fit_soft_student,
    keeps_tempered_output,
    soft_target_matrix,
    student_labels,
    untempered,
)
from skhpmkd._sample_weight import _BAGGING_DRAWS_BY_WEIGHT, unweighted_learner
from skhpmkd._students import SoftTargetClassifier


def _task(n_samples=300, n_classes=3, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    rng = np.random.RandomState(seed)
    teacher = softmax(rng.normal(scale=2.0, size=(n_samples, n_classes)), axis=1)
    teacher = 0.5 * teacher + 0.5 * np.eye(n_classes)[y]
    return X, y, teacher


def test_soft_target_matrix_rows_sum_to_one_and_mix():
    _, y, teacher = _task()
    y = y.copy()
    y[:10] = -1
    Q = soft_target_matrix(teacher, y, alpha=0.3, temperature=2.0)
    assert_allclose(Q.sum(axis=1), 1.0)
    q_t = softmax(np.log(teacher) / 2.0, axis=1)
    assert_allclose(Q[:10], q_t[:10])
    assert_allclose(Q[10:], 0.3 * q_t[10:] + 0.7 * np.eye(3)[y[10:]])


def test_standardized_logits_are_scale_free():
    rng = np.random.RandomState(0)
    logits = rng.normal(size=(50, 4))
    y = rng.randint(4, size=50)
    teacher, sharper = softmax(logits, axis=1), softmax(3.0 * logits, axis=1)
    Q = soft_target_matrix(teacher, y, 1.0, 1.0, standardize=True)
    Q_sharp = soft_target_matrix(sharper, y, 1.0, 1.0, standardize=True)
    assert_allclose(Q, Q_sharp, atol=1e-8)


def test_duplicate_rows_keeps_every_class():
    X = np.arange(6.0).reshape(3, 2)
    Q = np.array([[1.0, 0.0, 0.0], [0.9995, 0.0005, 0.0], [0.6, 0.4, 0.0]])
    Q[:, 2] = [0.0, 0.0, 1e-4]
    Q /= Q.sum(axis=1, keepdims=True)
    X_dup, codes, weights = duplicate_rows(X, Q)
    assert set(codes) == {0, 1, 2}
    assert np.all(weights[codes != 2] >= 1e-3)


def _reference_soft_logistic(X, Q, C):
    """Multinomial logistic regression minimising soft-label CE + L2 / (2C)."""
    n_features, n_classes = X.shape[1], Q.shape[1]

    def objective(params):
        W = params[: n_features * n_classes].reshape(n_features, n_classes)
        b = params[n_features * n_classes :]
        log_p = log_softmax(X @ W + b, axis=1)
        loss = -np.sum(Q * log_p) + 0.5 / C * np.sum(W**2)
        residual = np.exp(log_p) * Q.sum(axis=1, keepdims=True) - Q
        grad_W = X.T @ residual + W / C
        return loss, np.concatenate([grad_W.ravel(), residual.sum(axis=0)])

    start = np.zeros(n_features * n_classes + n_classes)
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        options=dict(gtol=1e-12, ftol=1e-15, maxiter=10_000),
    )
    W = result.x[: n_features * n_classes].reshape(n_features, n_classes)
    return W.T, result.x[n_features * n_classes :]


def test_duplication_equals_direct_soft_label_fit_for_logistic_regression():
    X, y, teacher = _task()
    X = StandardScaler().fit_transform(X)
    Q = soft_target_matrix(teacher, y, alpha=0.6, temperature=1.0)
    # The engine drops the negligible weights; the reference sees the same ones.
    Q[Q < MIN_TARGET_WEIGHT] = 0.0
    student = LogisticRegression(C=0.5, solver="newton-cg", tol=1e-12, max_iter=10_000)
    fitted, _ = fit_soft_student(
        student, X, teacher, y, np.arange(3), alpha=0.6, temperature=1.0
    )
    coef, intercept = _reference_soft_logistic(X, Q, C=0.5)
    # The soft-label optimum is invariant to adding a constant to every class.
    assert_allclose(fitted.coef_, coef - coef.mean(axis=0), atol=1e-6)
    assert_allclose(
        fitted.intercept_ - fitted.intercept_.mean(),
        intercept - intercept.mean(),
        atol=1e-4,
    )


def test_logistic_regression_margins_are_scaled_by_temperature():
    X, y, teacher = _task()
    X = StandardScaler().fit_transform(X)
    classes = np.arange(3)
    hot, _ = fit_soft_student(
        LogisticRegression(tol=1e-10),
        X,
        teacher,
        y,
        classes,
        alpha=1.0,
        temperature=2.0,
    )
    duplicated = LogisticRegression(tol=1e-10)
    X_dup, codes, weights = duplicate_rows(X, soft_target_matrix(teacher, y, 1.0, 2.0))
    duplicated.fit(X_dup, codes, sample_weight=weights)
    assert_allclose(hot.coef_, 2.0 * duplicated.coef_)
    assert_allclose(hot.intercept_, 2.0 * duplicated.intercept_)


def _output_layer_gradient(perceptron, X, Q):
    """Gradient of the soft-target cross-entropy plus the L2 penalty with
    respect to a one-hidden-layer perceptron's output weights and biases."""
    hidden = np.maximum(X @ perceptron.coefs_[0] + perceptron.intercepts_[0], 0.0)
    margins = hidden @ perceptron.coefs_[1] + perceptron.intercepts_[1]
    row_weight = Q.sum(axis=1, keepdims=True)
    if margins.shape[1] == 1:
        # One logistic output: the margin of the second class against the first.
        Q = Q[:, 1:]
        p = 1.0 / (1.0 + np.exp(-margins))
    else:
        p = softmax(margins, axis=1)
    # d/dz of sum_k -Q_k log p_k is (sum_k Q_k) p - Q, for both output layers.
    residual = row_weight * p - Q
    grad_coef = hidden.T @ residual + perceptron.alpha * perceptron.coefs_[1]
    return np.concatenate([grad_coef.ravel(), residual.sum(axis=0)])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_duplication_minimises_the_soft_label_loss_of_a_perceptron(n_classes):
    X, y, teacher = _task(n_classes=n_classes)
    X = StandardScaler().fit_transform(X)
    Q = soft_target_matrix(teacher, y, alpha=0.6, temperature=1.0)
    # The engine drops the negligible weights; the reference sees the same ones.
    Q[Q < MIN_TARGET_WEIGHT] = 0.0
    perceptron = MLPClassifier(
        hidden_layer_sizes=(5,),
        solver="lbfgs",
        alpha=1e-2,
        max_iter=20_000,
        max_fun=100_000,
        random_state=0,
    )
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for alpha in (0.6, 0.8):
            fits[alpha], _ = fit_soft_student(
                clone(perceptron), X, teacher, y, np.arange(n_classes), alpha=alpha
            )
    # The gradient of the summed soft-label loss at the fit on alpha = 0.6
    # vanishes (to lbfgs's stopping rule); at the fit on slightly different
    # targets (alpha = 0.8) it does not, so the check can fail.
    assert np.max(np.abs(_output_layer_gradient(fits[0.6], X, Q))) < 1.0
    assert np.max(np.abs(_output_layer_gradient(fits[0.8], X, Q))) > 10.0


def test_perceptron_output_layer_is_scaled_by_temperature():
    X, y, teacher = _task()
    X = StandardScaler().fit_transform(X)
    perceptron = MLPClassifier(hidden_layer_sizes=(4,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        hot, _ = fit_soft_student(
            clone(perceptron), X, teacher, y, np.arange(3), alpha=1.0, temperature=2.0
        )
        X_dup, codes, weights = duplicate_rows(
            X, soft_target_matrix(teacher, y, 1.0, 2.0)
        )
        duplicated = clone(perceptron).fit(X_dup, codes, sample_weight=weights)
    assert_allclose(hot.coefs_[0], duplicated.coefs_[0])
    assert_allclose(hot.intercepts_[0], duplicated.intercepts_[0])
    assert_allclose(hot.coefs_[1], 2.0 * duplicated.coefs_[1])
    assert_allclose(hot.intercepts_[1], 2.0 * duplicated.intercepts_[1])
    # Tempered back, the deployed student predicts what it was fitted to.
    assert_allclose(
        softmax(np.log(hot.predict_proba(X)) / 2.0, axis=1),
        duplicated.predict_proba(X),
        rtol=1e-6,
    )


@pytest.mark.parametrize("n_classes", [2, 4])
def test_tree_on_duplicates_equals_regressor_on_soft_targets(n_classes):
    X, y, teacher = _task(n_classes=n_classes, seed=3)
    Q = soft_target_matrix(teacher, y, alpha=0.7, temperature=1.5)
    X_dup, codes, weights = duplicate_rows(X, Q, min_weight=0.0)
    classifier = DecisionTreeClassifier(max_depth=4, random_state=0)
    classifier.fit(X_dup, codes, sample_weight=weights)
    regressor = SoftTargetClassifier(DecisionTreeRegressor(max_depth=4, random_state=0))
    regressor.fit_soft(X, Q, np.arange(n_classes))
    assert_allclose(regressor.predict_proba(X), classifier.predict_proba(X), atol=1e-10)
    assert regressor.regressor_.tree_.node_count == classifier.tree_.node_count


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize(
    "threshold", [{"ccp_alpha": 0.002}, {"min_impurity_decrease": 0.002}]
)
def test_tree_impurity_thresholds_act_as_on_duplicated_rows(n_classes, threshold):
    # The regression tree's impurity is Gini / n_classes; the student's
    # thresholds are scaled by it, so it prunes as the classification tree.
    X, y, teacher = _task(n_classes=n_classes, seed=3)
    Q = soft_target_matrix(teacher, y, alpha=0.7, temperature=1.5)
    X_dup, codes, weights = duplicate_rows(X, Q, min_weight=0.0)
    tree = DecisionTreeClassifier(random_state=0, **threshold)
    classifier = clone(tree).fit(X_dup, codes, sample_weight=weights)
    student, _ = fit_soft_student(
        tree, X, teacher, y, np.arange(n_classes), alpha=0.7, temperature=1.5
    )
    assert classifier.get_n_leaves() < 60  # the threshold prunes
    assert student.regressor_.get_n_leaves() == classifier.get_n_leaves()
    assert_allclose(student.predict_proba(X), classifier.predict_proba(X), atol=1e-10)


@pytest.mark.parametrize("forest", [False, True])
def test_a_monotonic_binary_tree_regresses_the_positive_column(forest):
    # Both columns of a binary target have the same variance, so the
    # single-output tree that monotonic_cst needs is the two-output tree.
    X, y, teacher = _task(n_classes=2, seed=3)
    make = RandomForestClassifier if forest else DecisionTreeClassifier
    params = dict(max_depth=4, random_state=0)
    if forest:
        params["n_estimators"] = 5
    free = fit_soft_student(make(**params), X, teacher, y, np.arange(2))[0]
    unconstrained = [0] * X.shape[1]
    same = fit_soft_student(
        make(monotonic_cst=unconstrained, **params), X, teacher, y, np.arange(2)
    )[0]
    assert same.regressor_.n_outputs_ == 1
    assert_allclose(same.predict_proba(X), free.predict_proba(X), atol=1e-10)

    increasing = fit_soft_student(
        make(monotonic_cst=[1] + unconstrained[1:], **params),
        X,
        teacher,
        y,
        np.arange(2),
    )[0]
    grid = np.repeat(X[:1], 50, axis=0)
    grid[:, 0] = np.linspace(X[:, 0].min(), X[:, 0].max(), 50)
    assert np.all(np.diff(increasing.predict_proba(grid)[:, 1]) >= 0)
    assert not np.allclose(increasing.predict_proba(X), free.predict_proba(X))


def test_a_monotonic_tree_on_more_than_two_classes_is_refused():
    X, y, teacher = _task(n_classes=3)
    tree = DecisionTreeClassifier(monotonic_cst=[1, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="monotonic_cst needs a binary task.* 3 class"):
        fit_soft_student(tree, X, teacher, y, np.arange(3))


def test_tree_criterion_and_class_weight_it_cannot_honour_warn():
    X, y, teacher = _task()
    tree = DecisionTreeClassifier(
        max_depth=3, criterion="entropy", class_weight="balanced"
    )
    with pytest.warns(UserWarning, match="criterion='entropy', class_weight='bal"):
        fit_soft_student(tree, X, teacher, y, np.arange(3))


def test_hgb_early_stopping_fits_when_a_class_tops_a_single_row():
    # Every class has many labelled rows, but the teacher ranks class 2 first
    # on one row only: the held-out split cannot be stratified on that.
    X = np.random.RandomState(0).rand(200, 3)
    y = np.arange(200) % 3
    teacher = np.tile([0.6, 0.35, 0.05], (200, 1))
    teacher[0] = [0.05, 0.05, 0.9]
    student = HistGradientBoostingClassifier(
        max_iter=5, early_stopping=True, random_state=0
    )
    fitted, _ = fit_soft_student(student, X, teacher, y, np.arange(3), alpha=0.9)
    assert_allclose(fitted.predict_proba(X).sum(axis=1), 1.0)


def test_alpha_zero_equals_hard_label_fit():
    X, y, teacher = _task()
    classes = np.arange(3)
    tree, _ = fit_soft_student(
        DecisionTreeClassifier(max_depth=4, random_state=0),
        X,
        teacher,
        y,
        classes,
        alpha=0.0,
    )
    hard_tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    assert_allclose(tree.predict_proba(X), hard_tree.predict_proba(X), atol=1e-10)

    logistic, _ = fit_soft_student(
        LogisticRegression(), X, teacher, y, classes, alpha=0.0, temperature=1.0
    )
    hard_logistic = LogisticRegression().fit(X, y)
    assert_allclose(logistic.coef_, hard_logistic.coef_, rtol=1e-6)


def test_alpha_zero_xgboost_binary_equals_hard_label_fit():
    xgboost = pytest.importorskip("xgboost")
    X, y, teacher = _task(n_classes=2)
    params = dict(n_estimators=10, max_depth=2, n_jobs=1, base_score=0.5)
    soft, _ = fit_soft_student(
        xgboost.XGBClassifier(**params), X, teacher, y, np.arange(2), alpha=0.0
    )
    hard = xgboost.XGBClassifier(**params).fit(X, y)
    assert_allclose(soft.predict_proba(X), hard.predict_proba(X), atol=1e-5)


def _students():
    students = [
        DecisionTreeClassifier(max_depth=5, random_state=0),
        RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0),
        LogisticRegression(max_iter=1000),
        HistGradientBoostingClassifier(max_iter=15, random_state=0),
        GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0),
        make_pipeline(StandardScaler(), LogisticRegression()),
    ]
    try:
        import xgboost

        students.append(xgboost.XGBClassifier(n_estimators=15, max_depth=3, n_jobs=1))
    except ImportError:
        pass
    try:
        import lightgbm

        students.append(
            lightgbm.LGBMClassifier(n_estimators=15, num_leaves=7, n_jobs=1, verbose=-1)
        )
    except ImportError:
        pass
    return students


@pytest.mark.parametrize("student", _students(), ids=lambda s: type(s).__name__)
@pytest.mark.parametrize(
    "classes",
    [np.array([0, 1]), np.array(["a", "b", "c"]), np.arange(10) * 3],
    ids=["binary", "strings", "ten-classes"],
)
def test_every_family_returns_probabilities_in_class_order(student, classes):
    n_classes = len(classes)
    X, y = make_classification(
        n_samples=60 * n_classes,
        n_features=10,
        n_informative=8,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=3.0,
        random_state=0,
    )
    teacher = 0.8 * np.eye(n_classes)[y] + 0.2 / n_classes
    fitted, temperatures = fit_soft_student(
        student, X, teacher, y, classes, alpha=0.5, temperature=2.0
    )
    labels = student_labels(fitted, classes)
    proba = aligned_proba(fitted, X, labels)
    assert proba.shape == (len(y), n_classes)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all((proba >= 0) & (proba <= 1))
    assert np.mean(np.argmax(proba, axis=1) == y) > 0.9
    # A constant schedule: every round (or the one fit) at T = 2.
    assert len(temperatures) >= 1 and set(temperatures) == {2.0}


def test_student_without_sample_weight_warns_and_uses_argmax():
    X, y, teacher = _task()
    with pytest.warns(UserWarning, match="trained on their most likely class"):
        fitted, _ = fit_soft_student(
            KNeighborsClassifier(3), X, teacher, y, np.array(["x", "y", "z"])
        )
    assert set(fitted.classes_) <= {"x", "y", "z"}


def test_unlabelled_rows_use_the_teacher_only():
    X, y, teacher = _task()
    y_partial = y.copy()
    y_partial[::2] = -1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted, _ = fit_soft_student(
            DecisionTreeClassifier(random_state=0),
            X,
            teacher,
            y_partial,
            np.arange(3),
            alpha=0.0,
        )
    # alpha=0 on labelled rows, pure teacher targets on unlabelled rows: a
    # fully grown tree reproduces both exactly.
    expected = soft_target_matrix(teacher, y_partial, 0.0, 1.0)
    assert_allclose(fitted.predict_proba(X), expected, atol=1e-10)


def test_lightgbm_student_records_scheduled_temperatures():
    lightgbm = pytest.importorskip("lightgbm")
    X, y, teacher = _task()
    fitted, temperatures = fit_soft_student(
        lightgbm.LGBMClassifier(n_estimators=5, verbose=-1, n_jobs=1),
        X,
        teacher,
        y,
        np.arange(3),
        temperature=3.0,
        schedule="linear",
        final_temperature=1.0,
    )
    assert_allclose(temperatures, [3.0, 2.5, 2.0, 1.5, 1.0])
    assert not callable(fitted.estimator.get_params()["objective"])


def test_xgboost_student_is_a_plain_xgboost_model():
    xgboost = pytest.importorskip("xgboost")
    X, y, teacher = _task()
    fitted, temperatures = fit_soft_student(
        xgboost.XGBClassifier(n_estimators=4, n_jobs=1),
        X,
        teacher,
        y,
        np.arange(3),
        temperature=2.0,
        schedule="cosine",
        final_temperature=1.0,
    )
    assert isinstance(fitted, xgboost.XGBClassifier)
    assert fitted.get_params()["objective"] == "multi:softprob"
    assert_allclose(temperatures, [2.0, 1.75, 1.25, 1.0])


def test_a_pipeline_student_learns_soft_targets_under_metadata_routing():
    # With routing on, the pipeline passes sample_weight only to the steps
    # that ask for it: the final step does, the scaler must not be asked.

    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    proba = np.column_stack([1 - y, y]) * 0.6 + 0.2
    plain = fit_soft_student(
        make_pipeline(StandardScaler(), LogisticRegression()), X, proba, y, [0, 1]
    )[0]
    with config_context(enable_metadata_routing=True):
        routed = fit_soft_student(
            make_pipeline(StandardScaler(), LogisticRegression()), X, proba, y, [0, 1]
        )[0]
    assert_allclose(routed.predict_proba(X), plain.predict_proba(X))


def _fitted_knn():
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    return FrozenEstimator(KNeighborsClassifier().fit(X, y))


_KNN, _LINEAR_SVC = KNeighborsClassifier(), LinearSVC()
_PIPELINE = make_pipeline(StandardScaler(), _LINEAR_SVC)
_SEARCH = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]})
_KNN_SEARCH = GridSearchCV(_KNN, {"n_neighbors": [3, 5]})


# Each model, the learner in it whose fit gets no weights (None: every one
# does) without and with metadata routing.
_UNWEIGHTED_LEARNERS = [
    (LogisticRegression(), None, None),
    (_KNN, _KNN, _KNN),
    (make_pipeline(StandardScaler(), _KNN), _KNN, _KNN),
    (CalibratedClassifierCV(LogisticRegression()), None, None),
    (CalibratedClassifierCV(_KNN), _KNN, _KNN),
    (CalibratedClassifierCV(_fitted_knn()), None, None),
    # Calibration gives a pipeline weights only under routing.
    (CalibratedClassifierCV(_PIPELINE), _PIPELINE, None),
    # Bagging draws its rows by weight for an estimator without them (since
    # scikit-learn 1.8; before, it refused them).
    (BaggingClassifier(_KNN), *[None if _BAGGING_DRAWS_BY_WEIGHT else _KNN] * 2),
    (
        BaggingClassifier(make_pipeline(StandardScaler(), _KNN)),
        *[None if _BAGGING_DRAWS_BY_WEIGHT else _KNN] * 2,
    ),
    (BaggingClassifier(CalibratedClassifierCV(_KNN)), _KNN, _KNN),
    # A search, like a pipeline, passes weights on only under routing.
    (CalibratedClassifierCV(_SEARCH), _SEARCH, None),
    (CalibratedClassifierCV(_KNN_SEARCH), _KNN_SEARCH, _KNN),
    (AdaBoostClassifier(DecisionTreeClassifier()), None, None),
    # Stacking and voting take the weights through **fit_params.
    (StackingClassifier([("lr", LogisticRegression())]), None, None),
    (StackingClassifier([("lr", LogisticRegression()), ("knn", _KNN)]), _KNN, _KNN),
    (StackingClassifier([("svc", _PIPELINE)]), _PIPELINE, None),
    (
        StackingClassifier([("lr", LogisticRegression())], final_estimator=_KNN),
        _KNN,
        _KNN,
    ),
    (VotingClassifier([("lr", LogisticRegression()), ("x", "drop")]), None, None),
    # Gradient boosting fits its init estimator with the weights.
    (GradientBoostingClassifier(init=_KNN), _KNN, _KNN),
    (GradientBoostingClassifier(init=LogisticRegression()), None, None),
    (GradientBoostingClassifier(init="zero"), None, None),
]


@pytest.mark.parametrize("model, plain, routed", _UNWEIGHTED_LEARNERS)
def test_the_learner_that_would_get_no_weights_is_found(model, plain, routed):
    assert unweighted_learner(model) is plain
    with config_context(enable_metadata_routing=True):
        assert unweighted_learner(model) is routed


@pytest.mark.parametrize(
    "student",
    [
        CalibratedClassifierCV(KNeighborsClassifier(), cv=3),
        # scikit-learn would refuse the weights for the init estimator.
        GradientBoostingClassifier(
            n_estimators=5, init=KNeighborsClassifier(), random_state=0
        ),
    ],
    ids=["calibrated", "boosting"],
)
def test_a_student_whose_learner_takes_no_weights_learns_the_top_class(student):
    """The kNN would get every duplicated row unweighted (or, in boosting,
    refuse them): the student learns the most likely class instead, with
    skhpmkd's warning, not scikit-learn's."""
    X, y, teacher = _task()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted, _ = fit_soft_student(clone(student), X, teacher, y, np.arange(3))
    messages = [str(warning.message) for warning in caught]
    expected = (
        f"The student {type(student).__name__} fits a KNeighborsClassifier, whose"
    )
    assert any(message.startswith(expected) for message in messages)
    assert not any("does not appear to accept" in message for message in messages)
    direct = clone(student).fit(
        X, np.argmax(soft_target_matrix(teacher, y, 0.5, 1.0), 1)
    )
    assert_allclose(fitted.predict_proba(X), direct.predict_proba(X))


_ENSEMBLE_MEMBERS = [
    ("lr", LogisticRegression()),
    ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
]


@pytest.mark.parametrize(
    "ensemble",
    [
        VotingClassifier(_ENSEMBLE_MEMBERS, voting="soft"),
        StackingClassifier(_ENSEMBLE_MEMBERS, cv=3),
    ],
    ids=["voting", "stacking"],
)
def test_a_voting_or_stacking_student_learns_soft_targets(ensemble):
    # Both take sample_weight through **fit_params.
    X, y, teacher = _task()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        student, _ = fit_soft_student(clone(ensemble), X, teacher, y, np.arange(3))
    X_dup, codes, weights = duplicate_rows(X, soft_target_matrix(teacher, y, 0.5, 1.0))
    direct = clone(ensemble).fit(X_dup, codes, sample_weight=weights)
    assert_allclose(student.predict_proba(X), direct.predict_proba(X))
    # A pipeline among its estimators cannot take the weights without
    # routing: the most likely class, with the warning.
    with_pipeline = clone(ensemble).set_params(
        lr=make_pipeline(StandardScaler(), LogisticRegression())
    )
    message = (
        f"{type(ensemble).__name__} fits a Pipeline, which passes sample_weight on "
        "only under metadata routing"
    )
    with pytest.warns(UserWarning, match=message):
        fit_soft_student(with_pipeline, X, teacher, y, np.arange(3))


_META_STUDENTS = {
    "calibrated": CalibratedClassifierCV(LinearSVC(), cv=3),
    "bagging": BaggingClassifier(LogisticRegression(), n_estimators=3, random_state=0),
    "voting": VotingClassifier(
        [
            ("lr", LogisticRegression()),
            ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
        ],
        voting="soft",
    ),
    # Transformers that route (a column transformer, a nested pipeline): their
    # steps are told not to ask, as a plain scaler is.
    "column_transformer": make_pipeline(
        ColumnTransformer([("scale", StandardScaler(), [0, 1, 2, 3, 4])]),
        LogisticRegression(),
    ),
    "nested_pipeline": make_pipeline(
        make_pipeline(StandardScaler()), LogisticRegression()
    ),
    "stacking": StackingClassifier(
        [("lr", LogisticRegression()), ("svc", LinearSVC())], cv=3
    ),
    # Without routing, calibration cannot give a pipeline the weights, so it
    # learns the most likely class; under routing it can.
    "calibrated_pipeline": CalibratedClassifierCV(
        make_pipeline(StandardScaler(), LinearSVC()), cv=3
    ),
}


@pytest.mark.parametrize("name", list(_META_STUDENTS))
def test_a_meta_estimator_student_learns_soft_targets_under_metadata_routing(name):
    # Under routing the weights reach only the learners that request them;
    # each learner that takes sample_weight must, as it gets them without.

    student = _META_STUDENTS[name]
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    proba = np.column_stack([1 - y, y]) * 0.6 + 0.2
    with config_context(enable_metadata_routing=True):
        routed = fit_soft_student(clone(student), X, proba, y, [0, 1])[0]
        params = routed.get_params(deep=True).values()
        learners = [p for p in params if isinstance(p, (LinearSVC, LogisticRegression))]
        scalers = [p for p in params if isinstance(p, StandardScaler)]
    assert learners
    for learner in learners:
        assert learner.get_metadata_routing().fit.requests["sample_weight"] is True
    for scaler in scalers:
        # A student pipeline's own transformers are fitted without weights and
        # left as they are; one inside a meta-estimator is told not to ask.
        requested = scaler.get_metadata_routing().fit.requests["sample_weight"]
        assert requested is (False if name == "calibrated_pipeline" else None)
    if name == "calibrated_pipeline":
        with pytest.warns(
            UserWarning, match="fits a Pipeline, which passes sample_weight"
        ):
            fit_soft_student(clone(student), X, proba, y, [0, 1])
        return
    plain = fit_soft_student(clone(student), X, proba, y, [0, 1])[0]
    assert_allclose(routed.predict_proba(X), plain.predict_proba(X), atol=1e-12)


class _HoldsADistribution(TransformerMixin, BaseEstimator):
    """A transformer with a parameter that has ``fit`` but is no estimator."""

    def __init__(self, distribution=norm):
        self.distribution = distribution

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def test_routing_looks_only_at_estimators_among_a_transformers_parameters():

    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    proba = np.column_stack([1 - y, y]) * 0.6 + 0.2
    student = make_pipeline(_HoldsADistribution(), LogisticRegression())
    plain = fit_soft_student(clone(student), X, proba, y, [0, 1])[0]
    with config_context(enable_metadata_routing=True):
        routed = fit_soft_student(clone(student), X, proba, y, [0, 1])[0]
    assert_allclose(routed.predict_proba(X), plain.predict_proba(X))


def test_routing_leaves_a_frozen_model_inside_the_student_alone():
    # Cloning keeps a FrozenEstimator's model: it is the user's object.

    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    proba = np.column_stack([1 - y, y]) * 0.6 + 0.2
    fitted = LogisticRegression().fit(X, y)
    student = CalibratedClassifierCV(FrozenEstimator(fitted))
    with config_context(enable_metadata_routing=True):
        fit_soft_student(clone(student), X, proba, y, [0, 1])
        assert fitted.get_metadata_routing().fit.requests["sample_weight"] is None


@pytest.mark.parametrize("family", ["xgboost", "lightgbm"])
def test_a_booster_fits_when_a_class_has_no_training_row(family):
    # XGBoost and LightGBM count the classes in the labels they get; a class
    # seen only through the teacher's soft targets must still be counted.
    if family == "xgboost":
        from xgboost import XGBClassifier as Booster
    else:
        from lightgbm import LGBMClassifier as Booster
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] > 0, 0, 2)
    proba = np.full((60, 3), 0.1)
    proba[np.arange(60), y] = 0.8
    student, _ = fit_soft_student(
        (
            Booster(n_estimators=5, verbose=-1)
            if family == "lightgbm"
            else Booster(n_estimators=5)
        ),
        X,
        proba,
        y,
        np.array([0, 1, 2]),
    )
    predicted = student.predict_proba(X)
    assert predicted.shape == (60, 3)
    assert_allclose(predicted.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("labels", [["ant", "bee", "cat"], [1, 5, 9]])
def test_a_pipeline_ending_in_xgboost_learns_any_class_labels(labels):
    xgboost = pytest.importorskip("xgboost")
    X, y = make_classification(
        n_samples=200, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    y = np.asarray(labels)[y]
    student = make_pipeline(
        StandardScaler(), xgboost.XGBClassifier(n_estimators=5, max_depth=2)
    )
    model = TemperatureScheduledDistiller(
        RandomForestClassifier(n_estimators=20, random_state=0), student, cv=3
    ).fit(X, y)
    assert set(model.predict(X)) <= set(y)
    assert np.mean(model.predict(X) == y) > 0.7
    assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "student, tempered",
    [
        (DecisionTreeClassifier(), True),
        (RandomForestClassifier(), True),
        (GradientBoostingClassifier(), True),
        (LogisticRegression(), False),
        (make_pipeline(StandardScaler(), LogisticRegression()), False),
        (MLPClassifier(), False),
        (KNeighborsClassifier(), False),  # learns the most likely class only
    ],
)
def test_which_students_predict_tempered_targets(student, tempered):
    assert keeps_tempered_output(student) is tempered


def test_untempered_inverts_the_temperature():
    q = softmax(np.random.RandomState(0).normal(size=(5, 4)), axis=1)
    assert_allclose(untempered(softmax(np.log(q) / 3.0, axis=1), 3.0), q)


@pytest.mark.parametrize(
    "student, warned",
    [
        (MLPClassifier(early_stopping=True, max_iter=20), True),
        (make_pipeline(StandardScaler(), MLPClassifier(early_stopping=True)), True),
        (GradientBoostingClassifier(n_estimators=5, n_iter_no_change=2), True),
        # Bare or ending a pipeline, it is given a validation split of whole rows.
        (
            make_pipeline(
                StandardScaler(),
                HistGradientBoostingClassifier(max_iter=5, early_stopping=True),
            ),
            False,
        ),
        (MLPClassifier(max_iter=20), False),
        (GradientBoostingClassifier(n_estimators=5), False),
        (HistGradientBoostingClassifier(max_iter=5, early_stopping=True), False),
    ],
    ids=["mlp", "pipeline_mlp", "gbm", "pipeline_hgb", "mlp_no", "gbm_no", "hgb"],
)
def test_early_stopping_on_copies_of_rows_is_warned_of(student, warned):
    # Its validation share holds copies of its training rows: it stops late.
    X, y = make_classification(n_samples=120, n_classes=3, n_informative=4)
    proba = softmax(np.random.RandomState(0).normal(size=(120, 3)), axis=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_soft_student(clone(student), X, proba, y, np.arange(3))
    messages = [str(w.message) for w in caught if "stops early" in str(w.message)]
    assert len(messages) == warned
    if warned:
        assert "validation score is optimistic and it stops late" in messages[0]


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_a_booster_ending_a_pipeline_learns_through_the_kd_objective(library):
    # It was fitted on duplicated rows: no schedule, and tempered (flat)
    # probabilities at T != 1.
    module = pytest.importorskip(library)
    if library == "xgboost":
        make = lambda: module.XGBClassifier(n_estimators=20, max_depth=2, n_jobs=1)
    else:
        make = lambda: module.LGBMClassifier(
            n_estimators=20, num_leaves=4, n_jobs=1, verbose=-1
        )
    X, y = make_classification(n_samples=150, n_classes=3, n_informative=4)
    X = X * 50 + 7
    proba = softmax(np.random.RandomState(0).normal(size=(150, 3)) * 2, axis=1)
    settings = dict(alpha=0.7, temperature=4.0, schedule="linear")
    pipeline, temperatures = fit_soft_student(
        make_pipeline(StandardScaler(), make()), X, proba, y, np.arange(3), **settings
    )
    Xt = StandardScaler().fit_transform(X)
    bare, bare_temperatures = fit_soft_student(
        make(), Xt, proba, y, np.arange(3), **settings
    )
    assert temperatures == bare_temperatures
    assert temperatures[0] == 4.0 and temperatures[-1] == 1.0
    labels = student_labels(pipeline, np.arange(3))
    assert_allclose(
        aligned_proba(pipeline, X, labels),
        aligned_proba(bare, Xt, student_labels(bare, np.arange(3))),
    )
    assert not keeps_tempered_output(pipeline)


def test_a_pipeline_students_transformers_see_each_row_once():
    # Only the last step learns from the duplicated rows; an imputer or a
    # scaler fitted on them counted rows of uncertain targets K times.
    X, y, teacher = _task()
    X = X * 30 + 5
    soft_targets = soft_target_matrix(teacher, y, 0.5, 1.0)
    pipeline, _ = fit_soft_student(
        make_pipeline(StandardScaler(), LogisticRegression()),
        X,
        teacher,
        y,
        np.arange(3),
    )
    scaler, learner = pipeline[0], pipeline[-1]
    assert_allclose(scaler.mean_, X.mean(axis=0))
    assert_allclose(scaler.scale_, X.std(axis=0))
    X_dup, codes, weights = duplicate_rows(scaler.transform(X), soft_targets)
    direct = LogisticRegression().fit(X_dup, codes, sample_weight=weights)
    assert_allclose(learner.coef_, direct.coef_)
    assert_allclose(
        pipeline.predict_proba(X), direct.predict_proba(scaler.transform(X))
    )


def _pipeline_final(library, **logistic_params):
    """A small XGBoost, or a logistic regression, to end a pipeline student."""
    if library == "xgboost":
        xgboost = pytest.importorskip("xgboost")
        return xgboost.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1)
    return LogisticRegression(**logistic_params)


@pytest.mark.parametrize("library", ["sklearn", "xgboost"])
def test_a_pipeline_students_rows_of_weight_zero_are_no_rows(library):
    # Not for its transformers either: a target encoder's cross-fitted codes
    # of the other rows, say, stay what they would be without them.
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import KBinsDiscretizer, TargetEncoder

    X, y, teacher = _task()
    X = np.column_stack([X, np.arange(len(y)) % 37])
    weights = np.random.RandomState(1).randint(0, 3, len(y)).astype(float)
    positive = weights > 0

    def student():
        encoder = ColumnTransformer(
            [("ids", TargetEncoder(cv=KFold(3, shuffle=True, random_state=0)), [6])],
            remainder=KBinsDiscretizer(strategy="quantile", encode="ordinal"),
        )
        return make_pipeline(encoder, _pipeline_final(library, max_iter=1000))

    with_zeros, _ = fit_soft_student(
        student(), X, teacher, y, np.arange(3), sample_weight=weights
    )
    without, _ = fit_soft_student(
        student(),
        X[positive],
        teacher[positive],
        y[positive],
        np.arange(3),
        sample_weight=weights[positive],
    )
    assert_allclose(with_zeros.predict_proba(X), without.predict_proba(X))


@pytest.mark.parametrize("routing", [False, True])
def test_a_pipeline_students_transformers_get_weights_as_a_pipeline_gives_them(
    routing,
):
    # Without routing a pipeline gives sample_weight to its last step only;
    # under routing, to the steps that request it, and then integer weights
    # are repeated rows.
    X, y, teacher = _task()
    X = X * 30 + 5
    weights = np.random.RandomState(1).randint(1, 3, len(y)).astype(float)
    rows = np.repeat(np.arange(len(y)), weights.astype(int))
    with config_context(enable_metadata_routing=routing):
        scaler = StandardScaler()
        if routing:
            scaler.set_fit_request(sample_weight=True)
        pipeline, _ = fit_soft_student(
            make_pipeline(scaler, LogisticRegression(tol=1e-10, max_iter=10_000)),
            X,
            teacher,
            y,
            np.arange(3),
            sample_weight=weights,
        )
        repeated, _ = fit_soft_student(
            make_pipeline(
                StandardScaler(), LogisticRegression(tol=1e-10, max_iter=10_000)
            ),
            X[rows],
            teacher[rows],
            y[rows],
            np.arange(3),
        )
    if routing:
        assert_allclose(pipeline[0].mean_, X[rows].mean(axis=0))
        assert_allclose(pipeline.predict_proba(X), repeated.predict_proba(X), atol=1e-5)
    else:
        assert_allclose(pipeline[0].mean_, X.mean(axis=0))


@pytest.mark.parametrize("library", ["sklearn", "xgboost"])
def test_a_supervised_step_of_a_pipeline_student_gets_the_most_likely_class(library):
    # The booster route called the steps without labels: a selector failed.
    from sklearn.feature_selection import SelectKBest

    final = _pipeline_final(library)
    X, y, teacher = _task()
    labels = np.array(["a", "b", "c"])
    pipeline, _ = fit_soft_student(
        make_pipeline(SelectKBest(k=3), final), X, teacher, y, labels, alpha=0.9
    )
    most_likely = labels[np.argmax(soft_target_matrix(teacher, y, 0.9, 1.0), axis=1)]
    assert_allclose(pipeline[0].scores_, SelectKBest(k=3).fit(X, most_likely).scores_)
    assert pipeline.predict_proba(X).shape == (300, 3)


def test_a_pipeline_student_with_a_memory_keeps_its_fitted_steps(tmp_path):
    # With a memory, a pipeline fits clones of its steps.
    from joblib import Memory

    X, y, teacher = _task()
    student = make_pipeline(
        StandardScaler(), LogisticRegression(), memory=Memory(tmp_path, verbose=0)
    )
    pipeline, _ = fit_soft_student(student, X, teacher, y, np.arange(3))
    uncached, _ = fit_soft_student(
        make_pipeline(StandardScaler(), LogisticRegression()),
        X,
        teacher,
        y,
        np.arange(3),
    )
    assert_allclose(pipeline.predict_proba(X), uncached.predict_proba(X))


def test_a_pipeline_ending_in_hgb_stops_early_on_whole_rows():
    X, y, teacher = _task(n_samples=400)
    hgb = HistGradientBoostingClassifier(
        max_iter=50, early_stopping=True, random_state=0
    )
    pipeline, _ = fit_soft_student(
        make_pipeline(StandardScaler(), clone(hgb)), X, teacher, y, np.arange(3)
    )
    Xt = StandardScaler().fit_transform(X)
    bare, _ = fit_soft_student(clone(hgb), Xt, teacher, y, np.arange(3))
    assert pipeline[-1].n_iter_ == bare.n_iter_
    assert_allclose(pipeline.predict_proba(X), bare.predict_proba(Xt))


def test_features_beyond_float32_are_named_for_an_xgboost_student():
    # XGBoost reads them as infinite and refused them in a C++ error.
    xgboost = pytest.importorskip("xgboost")
    X, y = make_classification(120, 3, n_informative=3, n_redundant=0, random_state=0)
    X[:, 1] *= 1e300
    teacher = FrozenEstimator(HistGradientBoostingClassifier(max_iter=5).fit(X, y))
    distiller = TemperatureScheduledDistiller(
        teacher, xgboost.XGBClassifier(n_estimators=3, n_jobs=1)
    )
    with pytest.raises(ValueError, match=r"float32.*column\(s\) \[1\] hold larger"):
        distiller.fit(X, y)
    # A column with only missing values is no reason to refuse.
    X[:, 1] = np.nan
    distiller.fit(X, y)
