"""Measured size and capacity of fitted classifiers.

Sizes are counted on the fitted model, never assumed from the family name:
a depth-8 tree that stopped at 12 leaves is small, a 2-round booster with
4 classes holds 8 trees. Three counts are exposed:

- :func:`model_size`: tree nodes (summed over every tree of an ensemble or
  booster) plus the coefficients of linear parts;
- :func:`count_leaves`: tree leaves;
- :func:`capacity`: fitted output parameters, i.e. leaf values (leaves times
  the values each leaf stores, so leaves x classes for a multi-output tree on
  soft targets and for a multiclass booster with one tree per class and
  round) plus coefficients.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._students import MarginClassifier, SoftTargetClassifier


@dataclass(frozen=True)
class _Counts:
    nodes: int = 0
    leaves: int = 0
    leaf_values: int = 0
    coefficients: int = 0

    def __add__(self, other):
        return _Counts(
            self.nodes + other.nodes,
            self.leaves + other.leaves,
            self.leaf_values + other.leaf_values,
            self.coefficients + other.coefficients,
        )


def _sum(parts):
    total = _Counts()
    for part in parts:
        total = total + part
    return total


def _top_module(estimator):
    return type(estimator).__module__.split(".")[0]


def _sklearn_tree(tree):
    values_per_leaf = int(np.prod(tree.value.shape[1:]))
    return _Counts(
        nodes=int(tree.node_count),
        leaves=int(tree.n_leaves),
        leaf_values=int(tree.n_leaves) * values_per_leaf,
    )


def _xgboost(estimator):
    if estimator.get_params().get("booster") == "gblinear":
        return _linear(estimator)
    booster = estimator.get_booster()
    best_iteration = getattr(estimator, "best_iteration", None)
    if best_iteration is not None:
        # Early stopping kept later rounds that predict_proba does not use.
        booster = booster[: best_iteration + 1]
    nodes = leaves = leaf_values = 0
    for dump in booster.get_dump():
        lines = [line for line in dump.splitlines() if line.strip()]
        nodes += len(lines)
        for line in lines:
            if "leaf=" in line:
                leaves += 1
                leaf_values += _n_leaf_values(line.split("leaf=", 1)[1])
    return _Counts(nodes=nodes, leaves=leaves, leaf_values=leaf_values)


def _n_leaf_values(text):
    """Values of an XGBoost leaf: ``0.5``, or ``[0.1, 0.2, 0.3]`` for a
    multi-output tree (``multi_strategy="multi_output_tree"``)."""
    if not text.startswith("["):
        return 1
    return text[1 : text.index("]")].count(",") + 1


def _lightgbm(estimator):
    trees = estimator.booster_.dump_model()["tree_info"]
    leaves = sum(int(tree["num_leaves"]) for tree in trees)
    # LightGBM trees are binary: a tree with L leaves has L - 1 split nodes.
    nodes = sum(2 * int(tree["num_leaves"]) - 1 for tree in trees)
    # A linear tree (linear_tree=True) fits a linear model in each leaf.
    coefficients = sum(
        len(leaf.get("leaf_coeff", ()))
        for tree in trees
        for leaf in _lightgbm_leaves(tree["tree_structure"])
    )
    return _Counts(
        nodes=nodes, leaves=leaves, leaf_values=leaves, coefficients=coefficients
    )


def _lightgbm_leaves(node):
    """The leaves of a tree of LightGBM's ``dump_model``."""
    stack = [node]
    while stack:
        node = stack.pop()
        if "left_child" not in node:
            yield node
        else:
            stack += [node["left_child"], node["right_child"]]


def _hist_gradient_boosting(estimator):
    predictors = [p for stage in estimator._predictors for p in stage]
    leaves = sum(int(p.nodes["is_leaf"].sum()) for p in predictors)
    nodes = sum(len(p.nodes) for p in predictors)
    return _Counts(nodes=nodes, leaves=leaves, leaf_values=leaves)


def _calibrated(estimator):
    """A calibrated classifier: each fold's model and its calibrators.

    A sigmoid calibrator holds two coefficients, temperature scaling one, and
    an isotonic calibrator the knots of its piecewise-linear map.
    """
    total = _Counts()
    for fold in estimator.calibrated_classifiers_:
        total = total + _counts(fold.estimator)
        for calibrator in fold.calibrators:
            if hasattr(calibrator, "X_thresholds_"):
                knots = calibrator.X_thresholds_.size + calibrator.y_thresholds_.size
            elif hasattr(calibrator, "a_"):
                knots = 2
            else:
                knots = int(np.size(calibrator.beta_))
            total = total + _Counts(coefficients=int(knots))
    return total


def _linear(estimator):
    coef = estimator.coef_
    # A sparsified model (``sparsify()``) stores only its non-zero weights.
    n_coef = coef.nnz if issparse(coef) else np.asarray(coef).size
    intercept = np.atleast_1d(np.asarray(getattr(estimator, "intercept_", [])))
    return _Counts(coefficients=int(n_coef + intercept.size))


def _counts(estimator):
    """Size counts of one fitted estimator, dispatched on what it holds."""
    if isinstance(estimator, np.ndarray):
        return _sum(_counts(part) for part in estimator.ravel())
    if isinstance(estimator, (list, tuple)):
        # Not through np.asarray: it would split a Pipeline into its steps.
        return _sum(_counts(part) for part in estimator)
    if not isinstance(estimator, BaseEstimator) and not hasattr(estimator, "fit"):
        raise ValueError(
            f"Cannot measure the size of {estimator!r}: it is not an estimator."
        )
    if isinstance(estimator, FrozenEstimator):
        return _counts(estimator.estimator)
    if isinstance(estimator, MarginClassifier):
        return _counts(estimator.estimator)
    check_is_fitted(estimator)
    if isinstance(estimator, SoftTargetClassifier):
        return _counts(estimator.regressor_)
    if isinstance(estimator, Pipeline):
        # Preprocessing steps hold no decision capacity; the predictor does.
        return _counts(estimator.steps[-1][1])
    if hasattr(estimator, "best_estimator_"):
        # A fitted hyper-parameter search predicts with its refitted best.
        return _counts(estimator.best_estimator_)
    if hasattr(estimator, "student_"):
        # Distillers deploy their student; the teacher is not part of the model.
        return _counts(estimator.student_)
    if hasattr(estimator, "calibrated_classifiers_"):
        return _calibrated(estimator)
    if hasattr(estimator, "teachers_"):
        # Fused teachers predict with every one of their teachers.
        return _sum(_counts(teacher) for teacher in estimator.teachers_)
    if hasattr(estimator, "specialists_"):
        # A pyramid predicts with its top teacher and every specialist.
        parts = [estimator.teacher_]
        for level in estimator.specialists_:
            parts += [specialist for specialist in level if specialist is not None]
        return _sum(_counts(part) for part in parts)
    if _top_module(estimator) == "xgboost":
        return _xgboost(estimator)
    if _top_module(estimator) == "lightgbm":
        return _lightgbm(estimator)
    if hasattr(estimator, "tree_"):
        return _sklearn_tree(estimator.tree_)
    if hasattr(estimator, "_predictors"):
        return _hist_gradient_boosting(estimator)
    if hasattr(estimator, "estimators_"):
        total = _counts(estimator.estimators_)
        if hasattr(estimator, "final_estimator_"):
            total = total + _counts(estimator.final_estimator_)
        return total
    if hasattr(estimator, "coefs_"):
        # A multi-layer perceptron: the weights and biases of every layer.
        return _Counts(
            coefficients=sum(int(np.size(layer)) for layer in estimator.coefs_)
            + sum(int(np.size(layer)) for layer in estimator.intercepts_)
        )
    if hasattr(estimator, "support_vectors_"):
        return _Counts(
            coefficients=int(
                estimator.support_vectors_.size
                + estimator.dual_coef_.size
                + np.size(estimator.intercept_)
            )
        )
    try:
        return _linear(estimator)
    except AttributeError:
        pass
    raise ValueError(
        f"Cannot measure the size of a {type(estimator).__name__}: it is neither "
        "a tree model, a tree ensemble, a booster, a perceptron nor a linear model."
    )


def model_size(estimator):
    """Number of tree nodes plus linear coefficients of a fitted classifier.

    Trees are summed over every tree of a forest or booster (XGBoost,
    LightGBM, HistGradientBoosting, GradientBoosting), including the trees
    inside :class:`~skhpmkd._students.SoftTargetClassifier` and
    :class:`~skhpmkd._students.MarginClassifier` wrappers; linear models count
    ``coef_.size + intercept_.size`` (the stored non-zero weights of a
    sparsified ``coef_``) and multi-layer perceptrons every weight
    and bias; a pipeline counts its final step, a fitted hyper-parameter
    search (:class:`~sklearn.model_selection.GridSearchCV` and the like) its
    ``best_estimator_``, a :class:`~sklearn.calibration.CalibratedClassifierCV`
    the model of every fold plus its calibrators' coefficients (two per
    sigmoid, one for temperature scaling, the knots of an isotonic map), a
    distiller its ``student_``, fused teachers
    (:class:`~skhpmkd.AttentionMultiTeacherClassifier`) every teacher and a
    :class:`~skhpmkd.PyramidTeacherClassifier` its top teacher and
    specialists.

    Parameters
    ----------
    estimator : fitted estimator
        The model to measure.

    Returns
    -------
    size : int
        Nodes plus coefficients.

    Raises
    ------
    ValueError
        If the estimator is none of the families above.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skhpmkd.metrics import model_size
    >>> X, y = load_iris(return_X_y=True)
    >>> model_size(DecisionTreeClassifier(max_depth=1).fit(X, y))
    3
    >>> model_size(LogisticRegression(max_iter=500).fit(X, y))
    15
    """
    counts = _counts(estimator)
    return counts.nodes + counts.coefficients


def count_leaves(estimator):
    """Number of tree leaves of a fitted tree model, ensemble or booster.

    Parameters
    ----------
    estimator : fitted estimator
        The model to measure; linear models have no leaves and count 0.

    Returns
    -------
    n_leaves : int

    See Also
    --------
    model_size : Nodes plus coefficients.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skhpmkd._size import count_leaves
    >>> X, y = load_iris(return_X_y=True)
    >>> count_leaves(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))
    3
    """
    return _counts(estimator).leaves


def capacity(estimator):
    """Number of fitted output parameters: leaf values plus coefficients.

    A leaf of a classification tree, or of a multi-output regression tree on
    soft targets, stores one value per class, so it counts ``n_classes`` (a
    binary soft-target tree fitted with ``monotonic_cst`` stores the positive
    class alone: one); a leaf of a booster stores one value, and a multiclass
    booster grows one tree per class and round (a binary one, one tree per
    round). The stored values are counted on the fitted model.

    Parameters
    ----------
    estimator : fitted estimator
        The model to measure.

    Returns
    -------
    capacity : int

    See Also
    --------
    model_size : Nodes plus coefficients.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skhpmkd._size import capacity
    >>> X, y = load_iris(return_X_y=True)
    >>> capacity(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))
    9
    """
    counts = _counts(estimator)
    return counts.leaf_values + counts.coefficients
