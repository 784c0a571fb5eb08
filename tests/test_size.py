"""Measured model size, leaves and capacity against each library's own counts."""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)
from skhpmkd._size import capacity, count_leaves, model_size
from skhpmkd._soft_targets import fit_soft_student
from skhpmkd._students import SoftTargetClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X, y


def test_tree_counts_match_sklearn(data):
    X, y = data
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    assert model_size(tree) == tree.tree_.node_count
    assert count_leaves(tree) == tree.get_n_leaves()
    assert capacity(tree) == tree.get_n_leaves() * 3


def test_forest_and_gbm_sum_over_trees(data):
    X, y = data
    forest = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0)
    forest.fit(X, y)
    assert model_size(forest) == sum(t.tree_.node_count for t in forest.estimators_)
    assert count_leaves(forest) == sum(t.get_n_leaves() for t in forest.estimators_)
    gbm = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0)
    gbm.fit(X, y)
    trees = gbm.estimators_.ravel()
    assert len(trees) == 9
    assert model_size(gbm) == sum(t.tree_.node_count for t in trees)
    assert capacity(gbm) == sum(t.get_n_leaves() for t in trees)


def test_hist_gradient_boosting(data):
    X, y = data
    hgb = HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=4, random_state=0)
    hgb.fit(X, y)
    leaves = sum(p.get_n_leaf_nodes() for stage in hgb._predictors for p in stage)
    assert count_leaves(hgb) == leaves
    assert model_size(hgb) == 2 * leaves - 9


def test_xgboost_counts_every_tree(data):
    xgb = pytest.importorskip("xgboost")
    X, y = data
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X, y)
    frame = model.get_booster().trees_to_dataframe()
    assert frame["Tree"].nunique() == 15
    assert model_size(model) == len(frame)
    assert count_leaves(model) == int((frame["Feature"] == "Leaf").sum())
    assert capacity(model) == count_leaves(model)


def test_lightgbm_counts_every_tree(data):
    lgb = pytest.importorskip("lightgbm")
    X, y = data
    model = lgb.LGBMClassifier(
        n_estimators=4, num_leaves=5, random_state=0, verbose=-1
    ).fit(X, y)
    frame = model.booster_.trees_to_dataframe()
    assert model_size(model) == len(frame)
    assert count_leaves(model) == int(frame["left_child"].isna().sum())


def test_xgboost_multi_output_trees_store_a_value_per_class_in_each_leaf(data):
    xgb = pytest.importorskip("xgboost")
    X, y = data
    model = xgb.XGBClassifier(
        n_estimators=3,
        max_depth=2,
        tree_method="hist",
        multi_strategy="multi_output_tree",
        random_state=0,
    ).fit(X, y)
    assert len(model.get_booster().get_dump()) == 3  # one tree per round
    assert capacity(model) == 3 * count_leaves(model)


def test_lightgbm_linear_trees_count_their_leaf_coefficients(data):
    lgb = pytest.importorskip("lightgbm")
    X, y = data
    params = dict(n_estimators=3, num_leaves=4, random_state=0, verbose=-1)
    plain = lgb.LGBMClassifier(**params).fit(X, y)
    linear = lgb.LGBMClassifier(**params, linear_tree=True).fit(X, y)
    trees = linear.booster_.dump_model()["tree_info"]
    n_coefficients = 0
    for tree in trees:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            n_coefficients += len(node.get("leaf_coeff", []))
            stack += [node[key] for key in ("left_child", "right_child") if key in node]
    assert n_coefficients > 0
    assert model_size(linear) == model_size(plain) + n_coefficients
    assert capacity(linear) == count_leaves(linear) + n_coefficients


def test_linear_models_count_coefficients(data):
    X, y = data
    assert model_size(LogisticRegression().fit(X, y)) == 3 * 6 + 3
    binary = LogisticRegression().fit(X, y == 0)
    assert model_size(binary) == capacity(binary) == 6 + 1
    assert count_leaves(binary) == 0


def test_sparsified_linear_models_count_their_stored_weights(data):
    X, y = data
    dense = LogisticRegression(l1_ratio=1, C=0.05, solver="saga", max_iter=2000).fit(
        X, y
    )
    n_nonzero = int(np.count_nonzero(dense.coef_))
    assert 0 < n_nonzero < dense.coef_.size
    sparse = LogisticRegression(l1_ratio=1, C=0.05, solver="saga", max_iter=2000)
    sparse = sparse.fit(X, y).sparsify()
    assert model_size(dense) == dense.coef_.size + 3
    assert model_size(sparse) == n_nonzero + 3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_perceptrons_count_weights_and_biases(data):
    X, y = data
    # 6 inputs -> 8 hidden units -> 3 outputs, or 1 logistic output for 2 classes.
    multiclass = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20).fit(X, y)
    assert model_size(multiclass) == capacity(multiclass) == 6 * 8 + 8 + 8 * 3 + 3
    binary = make_pipeline(StandardScaler(), MLPClassifier((8, 5), max_iter=20))
    binary.fit(X, y == 0)
    assert model_size(binary) == 6 * 8 + 8 + 8 * 5 + 5 + 5 * 1 + 1
    assert count_leaves(binary) == 0


def test_wrappers_measure_what_they_deploy(data):
    X, y = data
    classes = np.unique(y)
    proba = np.full((len(y), 3), 1 / 3)
    soft, _ = fit_soft_student(
        DecisionTreeClassifier(max_depth=3, random_state=0), X, proba, y, classes
    )
    assert isinstance(soft, SoftTargetClassifier)
    assert model_size(soft) == soft.regressor_.tree_.node_count
    assert capacity(soft) == soft.regressor_.get_n_leaves() * 3

    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert model_size(pipe) == model_size(pipe[-1])
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    assert model_size(FrozenEstimator(tree)) == model_size(tree)

    distiller = TemperatureScheduledDistiller(
        teacher=LogisticRegression(),
        student=DecisionTreeClassifier(max_depth=2),
        cv=3,
        random_state=0,
    ).fit(X, y)
    assert model_size(distiller) == model_size(distiller.student_)


def test_lightgbm_margin_wrapper(data):
    lgb = pytest.importorskip("lightgbm")
    X, y = data
    proba = np.full((len(y), 3), 1 / 3)
    student = lgb.LGBMClassifier(n_estimators=3, num_leaves=4, verbose=-1)
    wrapped, _ = fit_soft_student(student, X, proba, y, np.unique(y))
    frame = wrapped.estimator.booster_.trees_to_dataframe()
    assert model_size(wrapped) == len(frame) > 0


def test_multi_output_regressor_tree_counts_outputs(data):
    X, y = data
    targets = np.eye(3)[y]
    tree = DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, targets)
    assert capacity(tree) == 3 * tree.get_n_leaves()


def test_errors(data):
    X, y = data
    with pytest.raises(NotFittedError):
        model_size(DecisionTreeClassifier())
    with pytest.raises(ValueError, match="GaussianNB"):
        model_size(GaussianNB().fit(X, y))
    with pytest.raises(ValueError, match="not an estimator"):
        model_size("tree")


def test_fused_and_pyramid_teachers_count_every_model(data):
    X, y = data
    fused = AttentionMultiTeacherClassifier(
        [
            ("tree", DecisionTreeClassifier(max_depth=3)),
            ("linear", make_pipeline(StandardScaler(), LogisticRegression())),
        ],
        cv=3,
        random_state=0,
    ).fit(X, y)
    assert model_size(fused) == sum(model_size(t) for t in fused.teachers_)

    pyramid = PyramidTeacherClassifier(
        DecisionTreeClassifier(max_depth=3), cv=3, random_state=0
    ).fit(X, y)
    specialists = [s for level in pyramid.specialists_ for s in level if s is not None]
    assert specialists
    assert model_size(pyramid) == model_size(pyramid.teacher_) + sum(
        map(model_size, specialists)
    )


def test_ensembles_of_pipelines_count_each_pipeline_predictor(data):
    # A list of pipelines must not be split into the pipelines' steps.
    X, y = data
    voting = VotingClassifier(
        [
            ("a", make_pipeline(StandardScaler(), DecisionTreeClassifier(max_depth=2))),
            ("b", make_pipeline(StandardScaler(), DecisionTreeClassifier(max_depth=3))),
        ],
        voting="soft",
    ).fit(X, y)
    assert model_size(voting) == sum(
        pipeline[-1].tree_.node_count for pipeline in voting.estimators_
    )


def test_xgboost_early_stopping_counts_the_rounds_it_predicts_with(data):
    xgboost = pytest.importorskip("xgboost")
    X, y = data
    model = xgboost.XGBClassifier(
        n_estimators=200, max_depth=2, learning_rate=0.5, early_stopping_rounds=5
    ).fit(X[:200], y[:200], eval_set=[(X[200:], y[200:])], verbose=False)
    frame = model.get_booster().trees_to_dataframe()
    n_classes = 3
    used = frame[frame.Tree < (model.best_iteration + 1) * n_classes]
    assert len(used) < len(frame)
    assert model_size(model) == len(used)
    assert count_leaves(model) == int((used.Feature == "Leaf").sum())


def test_a_fitted_search_counts_its_best_estimator(data):
    X, y = data
    search = GridSearchCV(
        make_pipeline(StandardScaler(), DecisionTreeClassifier(random_state=0)),
        {"decisiontreeclassifier__max_depth": [2, 4]},
        cv=3,
    ).fit(X, y)
    assert model_size(search) == search.best_estimator_[-1].tree_.node_count


@pytest.mark.parametrize(
    "method, per_calibrator",
    [
        ("sigmoid", lambda calibrator: 2),
        ("temperature", lambda calibrator: 1),
        (
            "isotonic",
            lambda calibrator: 2 * len(calibrator.X_thresholds_),
        ),
    ],
)
def test_a_calibrated_classifier_counts_each_fold_and_its_calibrators(
    data, method, per_calibrator
):
    X, y = data
    model = CalibratedClassifierCV(
        DecisionTreeClassifier(max_depth=3, random_state=0), method=method, cv=3
    ).fit(X, y)
    folds = model.calibrated_classifiers_
    trees = sum(fold.estimator.tree_.node_count for fold in folds)
    calibrators = sum(
        per_calibrator(calibrator) for fold in folds for calibrator in fold.calibrators
    )
    assert model_size(model) == trees + calibrators
    assert count_leaves(model) == sum(fold.estimator.get_n_leaves() for fold in folds)
