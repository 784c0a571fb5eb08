"""Fit any student family on soft targets, exactly where the family allows it.

Every function here takes an unfitted student the caller already cloned,
teacher probabilities ``P`` of shape (n_samples, n_classes) and encoded hard
labels ``y`` (``-1`` for unlabelled transfer rows), and returns the fitted
student with the temperatures it was trained at. Students learn the target
``Q = alpha q^T + (1 - alpha) y`` (``alpha = 1`` on unlabelled rows); boosted
students get the KD loss itself as their objective.
"""

import warnings

import numpy as np
from scipy.special import softmax
from sklearn import get_config
from sklearn.base import is_classifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)

from ._frames import take_rows, with_feature_names
from ._objective import KDObjective
from ._sample_weight import (
    check_booster_weights,
    fit_weighted,
    no_sample_weight,
    positive_rows,
    request_sample_weight,
    takes_sample_weight,
    weights_of,
)
from ._schedule import make_schedule
from ._students import MarginClassifier, SoftTargetClassifier

MIN_TARGET_WEIGHT = 1e-3
_HGB_EARLY_STOPPING_MIN_ROWS = 10_000
_EPS = 1e-12

# Students whose margins _scale_margins multiplies by the temperature.
_SCALED_MARGINS = (LogisticRegression, MLPClassifier)
_REGRESSOR_OF = {
    DecisionTreeClassifier: DecisionTreeRegressor,
    ExtraTreeClassifier: ExtraTreeRegressor,
    RandomForestClassifier: RandomForestRegressor,
    ExtraTreesClassifier: ExtraTreesRegressor,
}


def teacher_logits(teacher_proba, standardize=False):
    """Logits of teacher probabilities, optionally standardised per row.

    Standardising (zero mean, unit standard deviation per row) is the
    label-free logit standardisation of the teacher: the temperature then acts
    on logits of a common scale.
    """
    logits = np.log(np.clip(np.asarray(teacher_proba, dtype=float), _EPS, None))
    logits -= logits.mean(axis=1, keepdims=True)
    if standardize:
        scale = logits.std(axis=1, keepdims=True)
        logits = np.divide(logits, scale, out=np.zeros_like(logits), where=scale > 0)
    return logits


def row_alpha(y, alpha):
    """Soft-term weight per row: ``alpha`` where labelled, 1 where ``y == -1``."""
    return np.where(np.asarray(y) < 0, 1.0, float(alpha))


def onehot(y, n_classes):
    """One-hot encoding of codes; rows with ``y == -1`` are all zeros."""
    y = np.asarray(y)
    encoded = np.zeros((len(y), n_classes))
    labelled = y >= 0
    encoded[np.flatnonzero(labelled), y[labelled]] = 1.0
    return encoded


def soft_target_matrix(teacher_proba, y, alpha, temperature, standardize=False):
    """Return ``Q = alpha q^T + (1 - alpha) y``; rows sum to one.

    Parameters
    ----------
    teacher_proba : ndarray of shape (n_samples, n_classes)
        Teacher probabilities at temperature 1.
    y : ndarray of shape (n_samples,)
        Encoded labels, ``-1`` for unlabelled rows.
    alpha : float
        Weight of the teacher on labelled rows.
    temperature : float
        Temperature applied to the teacher's logits.
    standardize : bool, default=False
        Standardise the teacher's logits per row first.

    Returns
    -------
    Q : ndarray of shape (n_samples, n_classes)
    """
    logits = teacher_logits(teacher_proba, standardize)
    q_t = softmax(logits / temperature, axis=1)
    weight = row_alpha(y, alpha)[:, None]
    return weight * q_t + (1 - weight) * onehot(y, q_t.shape[1])


def duplicate_rows(X, soft_targets, min_weight=MIN_TARGET_WEIGHT, sample_weight=None):
    """Repeat each row once per class, weighted by its soft target.

    Cross-entropy is linear in the target, so a log-loss learner fitted on the
    duplicated rows minimises exactly the soft-target cross-entropy. Pairs
    whose target is below ``min_weight`` are dropped, and so are rows of
    weight zero, except that each class keeps its highest-weight row so that
    the student sees every class.

    Returns
    -------
    X_dup, codes, weights
        Duplicated rows, their class codes and sample weights: the soft
        targets, times ``sample_weight`` when given.
    """
    weights = soft_targets
    keep = soft_targets >= min_weight
    if sample_weight is not None:
        weights = soft_targets * np.asarray(sample_weight, dtype=float)[:, None]
        keep &= weights > 0
    keep[np.argmax(weights, axis=0), np.arange(soft_targets.shape[1])] = True
    rows, codes = np.nonzero(keep)
    return take_rows(X, rows), codes, weights[rows, codes]


def _top_module(student):
    return type(student).__module__.split(".")[0]


def _is_xgboost(student):
    return _top_module(student) == "xgboost" and is_classifier(student)


def _final_step(student):
    """The predictor of a pipeline, or the student itself."""
    return student.steps[-1][1] if isinstance(student, Pipeline) else student


def _takes_codes_only(student):
    """XGBoost classifiers, bare or ending a pipeline, learn codes 0..K-1 only."""
    return _is_xgboost(_final_step(student))


def _is_lightgbm(student):
    return _top_module(student) == "lightgbm" and is_classifier(student)


# LightGBM's names for its number of rounds, in the order it obeys them when
# several are set: an alias set among its parameters replaces n_estimators,
# which comes last.
_LIGHTGBM_ROUND_ALIASES = (
    "num_iterations",
    "n_iter",
    "nrounds",
    "max_iter",
    "num_tree",
    "num_round",
    "num_trees",
    "num_rounds",
    "num_iteration",
    "num_boost_round",
    "n_estimators",
)


# The names of the learning rate, in the order the boosters obey them:
# XGBoost takes eta when learning_rate is None; LightGBM's scikit-learn
# wrapper always passes learning_rate, which wins over eta or shrinkage_rate.
_XGBOOST_RATE_ALIASES = ("learning_rate", "eta")
_XGBOOST_DEFAULT_RATE = 0.3


def _first_set_name(estimator, names):
    """The first of ``names`` set (not None) in ``estimator``, or None."""
    params = estimator.get_params()
    return next((name for name in names if params.get(name) is not None), None)


def _first_set(estimator, names, default):
    """The value of the first of ``names`` set (not None) in ``estimator``."""
    name = _first_set_name(estimator, names)
    return default if name is None else int(estimator.get_params()[name])


def n_boosting_rounds(student):
    """Number of boosting rounds of an XGBoost or LightGBM student."""
    return _first_set(student, _round_names(student), 100)


def boosting_rounds_parameter(student):
    """The parameter that sets an XGBoost or LightGBM student's rounds."""
    return _first_set_name(student, _round_names(student)) or "n_estimators"


def _round_names(student):
    return _LIGHTGBM_ROUND_ALIASES if _is_lightgbm(student) else ("n_estimators",)


def learning_rate(student):
    """``(parameter, value)`` of an XGBoost or LightGBM student's learning rate.

    The parameter the booster obeys and its value: XGBoost's ``eta`` when
    ``learning_rate`` is None, and XGBoost's default 0.3 when neither is set.
    """
    names = _XGBOOST_RATE_ALIASES if _is_xgboost(student) else ("learning_rate",)
    name = _first_set_name(student, names)
    if name is None:
        return "learning_rate", _XGBOOST_DEFAULT_RATE
    return name, float(student.get_params()[name])


def is_round_based(student):
    """Whether the student is trained through the per-round KD objective."""
    return _is_xgboost(student) or _is_lightgbm(student)


def is_boosted(student):
    """Whether :func:`fit_soft_student` trains ``student``, bare or ending a
    pipeline, through the per-round KD objective."""
    return is_round_based(_final_step(student))


# Characters that XGBoost and LightGBM refuse in a column name.
_REFUSED_IN_NAMES = {"xgboost": set("[]<"), "lightgbm": set('",:[]{}')}


def refused_column_names(library, X):
    """The column names of ``X`` that ``library`` ("xgboost" or "lightgbm")
    refuses; none for an array."""
    refused = _REFUSED_IN_NAMES[library]
    return [name for name in getattr(X, "columns", ()) if refused & set(str(name))]


def _booster_rows(student, X):
    """``X``, as a bare array if the booster refuses one of its column names.

    The student then has no ``feature_names_in_`` and is given arrays.
    """
    if refused_column_names(_top_module(student), X):
        return X.to_numpy()
    return X


def _fit_boosted(student, X, teacher_proba, y, classes, settings, sample_weight):
    n_classes = len(classes)
    X = _booster_rows(student, X)
    logits = teacher_logits(teacher_proba, settings["standardize"])
    schedule = make_schedule(
        settings["schedule"],
        settings["temperature"],
        settings["final_temperature"],
        n_boosting_rounds(student),
    )
    objective = KDObjective(
        logits, onehot(y, n_classes), row_alpha(y, settings["alpha"]), schedule
    )
    soft_targets = soft_target_matrix(teacher_proba, y, settings["alpha"], 1.0)
    fit_codes = _codes_with_every_class(
        np.where(y >= 0, y, np.argmax(soft_targets, axis=1)), soft_targets
    )
    student.set_params(objective=objective)
    if _is_xgboost(student):
        _check_float32_features(X, student)
        student.fit(X, fit_codes, sample_weight=sample_weight)
        student.set_params(
            objective="binary:logistic" if n_classes == 2 else "multi:softprob"
        )
        return student, _used_temperatures(objective, settings)
    from lightgbm.basic import LightGBMError

    prior = np.average(soft_targets, axis=0, weights=sample_weight)
    log_prior = np.log(np.clip(prior, _EPS, None))
    log_prior -= log_prior[0]
    init = log_prior[1] if n_classes == 2 else log_prior
    init_score = np.tile(init, (len(y), 1)) if n_classes > 2 else np.full(len(y), init)
    # With too few rows LightGBM bins away every feature; its built-in
    # objective then fits the class prior, a custom objective crashes (and
    # prints a "Fatal" line first). Fewer rows than twice the smallest leaf
    # leave no split, so those skip the crash.
    few_rows = len(y) < 2 * _first_set(student, _LIGHTGBM_MIN_LEAF_ALIASES, 20)
    if not few_rows:
        try:
            student.fit(
                X, fit_codes, init_score=init_score, sample_weight=sample_weight
            )
        except LightGBMError as error:
            if "num_features()" not in str(error):
                raise
            few_rows = True
    if few_rows:
        warnings.warn(
            f"LightGBM found no feature to split on in {len(y)} rows; the "
            "student predicts the class prior of the labels.",
            UserWarning,
        )
        student.set_params(objective=None)
        student.fit(X, fit_codes, sample_weight=sample_weight)
        log_prior = np.zeros(n_classes)
    # Drop the objective, which holds the training targets, from the fitted
    # model; predictions use raw scores and do not depend on it.
    builtin = "binary" if n_classes == 2 else "multiclass"
    student.set_params(objective=builtin)
    student._objective = builtin
    deployed = MarginClassifier(student, classes, log_prior).fit(X)
    return deployed, _used_temperatures(objective, settings)


def _check_float32_features(X, student):
    """Raise if a feature is beyond float32's range, which XGBoost reads as
    infinite and refuses in a C++ error.

    The extremes are found by reductions, without a copy of ``X``.
    """
    values = np.asarray(X)
    limit = np.finfo(np.float32).max
    if values.dtype.kind != "f" or not values.size:
        return
    highest = np.fmax.reduce(values, axis=None)
    lowest = np.fmin.reduce(values, axis=None)
    if not (highest > limit or lowest < -limit):  # NaN-only columns pass
        return
    large = np.abs(values) > limit
    names = getattr(X, "columns", None)
    named = [
        names[c] if names is not None else int(c)
        for c in np.flatnonzero(large.any(axis=0))
    ]
    raise ValueError(
        f"The XGBoost student {type(student).__name__} holds features as "
        f"float32, whose largest value is {float(limit)!r}; column(s) {named} "
        f"hold larger values (the largest: {float(np.abs(values[large]).max())!r}). "
        "Scale those columns down."
    )


# LightGBM's names for the fewest rows in a leaf: an alias set among its
# parameters replaces min_child_samples, which comes last.
_LIGHTGBM_MIN_LEAF_ALIASES = (
    "min_data_in_leaf",
    "min_data",
    "min_samples_leaf",
    "min_child_samples",
    "min_data_per_leaf",
)


def _fit_boosted_pipeline(
    pipeline, X, teacher_proba, y, classes, settings, sample_weight
):
    """Fit a pipeline's transformers (see :func:`_fit_head`), then its
    booster on what they output, through the KD objective; the pipeline gets
    the fitted booster (LightGBM's in its :class:`MarginClassifier`) as its
    last step."""
    name, booster = pipeline.steps[-1]
    X, sample_weight, teacher_proba, y = positive_rows(
        X, sample_weight, teacher_proba, y
    )
    soft_targets = soft_target_matrix(
        teacher_proba,
        y,
        settings["alpha"],
        settings["temperature"],
        settings["standardize"],
    )
    Xt = _fit_head(pipeline, X, soft_targets, classes, sample_weight)
    fitted, temperatures = _fit_boosted(
        booster, Xt, teacher_proba, y, classes, settings, sample_weight
    )
    pipeline.steps[-1] = (name, fitted)
    return pipeline, temperatures


def _used_temperatures(objective, settings):
    """The temperature of each round the objective ran, or the starting one
    when it ran none (no rounds, or LightGBM's built-in fallback)."""
    return list(objective.temperatures_) or [float(settings["temperature"])]


def _codes_with_every_class(codes, soft_targets):
    """``codes`` in which every class appears at least once.

    XGBoost and LightGBM take the number of classes from the labels ``fit``
    gets, which the KD objective itself does not read. A class missing from
    ``codes`` takes the row that gives it the most weight among rows whose
    class appears more than once.
    """
    n_classes = soft_targets.shape[1]
    missing = np.setdiff1d(np.arange(n_classes), codes)
    if not missing.size:
        return codes
    if len(codes) < n_classes:
        raise ValueError(
            f"A boosted student needs at least one row per class; got "
            f"{len(codes)} rows for {n_classes} classes."
        )
    codes = codes.copy()
    for code in missing:
        spare = np.flatnonzero(np.bincount(codes, minlength=n_classes)[codes] > 1)
        codes[spare[np.argmax(soft_targets[spare, code])]] = code
    return codes


def _fit_tree_regression(student, X, soft_targets, classes, sample_weight):
    """The tree or forest grown as a squared-error regressor on the targets.

    Its impurity is the Gini impurity divided by the number of classes, so
    the impurity thresholds (``min_impurity_decrease``, ``ccp_alpha``) are
    divided by it too. The Gini criterion is the one it reproduces: another
    ``criterion`` and any ``class_weight`` are not used, with a warning.
    """
    regressor_class = _REGRESSOR_OF[type(student)]
    valid = regressor_class().get_params()
    given = student.get_params(deep=False)
    unused = {
        key: given[key]
        for key, default in (("criterion", "gini"), ("class_weight", None))
        if given.get(key, default) != default
    }
    if unused:
        warnings.warn(
            f"{type(student).__name__} learns soft targets as a squared-error "
            "regression tree, which splits as the Gini criterion does; "
            f"{', '.join(f'{k}={v!r}' for k, v in unused.items())} is not used.",
            UserWarning,
        )
    params = {
        key: value
        for key, value in given.items()
        if key in valid and key not in ("criterion", "class_weight")
    }
    n_classes = soft_targets.shape[1]
    for key in ("min_impurity_decrease", "ccp_alpha"):
        if key in params:
            params[key] = params[key] / n_classes
    regressor = regressor_class(criterion="squared_error", **params)
    return SoftTargetClassifier(regressor).fit_soft(
        X, soft_targets, classes, sample_weight=sample_weight
    )


def _fit_head(pipeline, X, soft_targets, classes, sample_weight):
    """Fit the steps of ``pipeline`` before its last on ``X``; return their output.

    They see each row once, not once per class as the last step does, so an
    imputer or a scaler learns the statistics of the rows themselves. They
    get the row weights as a scikit-learn pipeline gives them: only under
    metadata routing, to the steps that request them. A supervised step (a
    feature selector, a target encoder) is given each row's most likely
    class under ``soft_targets``. Call it without rows of weight zero (see
    :func:`~skhpmkd._sample_weight.positive_rows`).
    """
    head = pipeline.steps[:-1]
    if not head:
        return X
    labels = classes[np.argmax(soft_targets, axis=1)]
    transformers = Pipeline(head)
    params = {}
    if sample_weight is not None and get_config()["enable_metadata_routing"]:
        # Steps without a request of their own are told not to ask.
        request_sample_weight(pipeline)
        routing = transformers.get_metadata_routing()
        if routing.consumes(method="fit_transform", params={"sample_weight"}):
            params["sample_weight"] = sample_weight
    return transformers.fit_transform(X, labels, **params)


def _fit_duplicated(student, X, soft_targets, classes, sample_weight):
    if isinstance(student, Pipeline):
        X, sample_weight, soft_targets = positive_rows(X, sample_weight, soft_targets)
        Xt = _fit_head(student, X, soft_targets, classes, sample_weight)
        name, final = student.steps[-1]
        fitted = _fit_duplicated(final, Xt, soft_targets, classes, sample_weight)
        student.steps[-1] = (name, fitted)
        return student
    X_dup, codes, weights = duplicate_rows(X, soft_targets, sample_weight=sample_weight)
    labels = codes if _takes_codes_only(student) else classes[codes]
    if isinstance(student, HistGradientBoostingClassifier) and _hgb_early_stops(
        student, len(labels)
    ):
        return _fit_hgb_with_validation(
            student, X, soft_targets, classes, sample_weight
        )
    if _stops_early_on_copies(_final_step(student), len(labels)):
        warnings.warn(
            f"The student {type(student).__name__} stops early on a random "
            "share of the rows it is fitted on, which are copies of each row, "
            "one per class: copies of a row fall on both sides, so its "
            "validation score is optimistic and it stops late. Give it a fixed "
            "number of iterations (or use a HistGradientBoostingClassifier, "
            "which is given a split of whole rows).",
            UserWarning,
        )
    return fit_weighted(student, X_dup, labels, weights)


def _stops_early_on_copies(model, n_rows):
    """Whether ``model`` holds out a random share of its ``n_rows`` rows to
    stop early (perceptrons and linear models with ``early_stopping``,
    gradient boosting with ``n_iter_no_change``, histogram gradient boosting)."""
    params = model.get_params()
    if isinstance(model, HistGradientBoostingClassifier):
        return _hgb_early_stops(model, n_rows)
    if "early_stopping" in params:
        return params["early_stopping"] is True
    return (
        params.get("n_iter_no_change") is not None and "validation_fraction" in params
    )


def _hgb_early_stops(student, n_rows):
    early_stopping = student.get_params()["early_stopping"]
    if early_stopping == "auto":
        return n_rows > _HGB_EARLY_STOPPING_MIN_ROWS
    return bool(early_stopping)


def _fit_hgb_with_validation(student, X, soft_targets, classes, sample_weight):
    """Hold out original rows, not duplicates, for HGB's early stopping."""
    params = student.get_params()
    top = np.argmax(soft_targets, axis=1)
    # A class that tops a single row cannot be stratified on: then no split is.
    stratify = top if np.unique(top, return_counts=True)[1].min() >= 2 else None
    train, val = train_test_split(
        np.arange(soft_targets.shape[0]),
        test_size=params["validation_fraction"] or 0.1,
        random_state=params["random_state"],
        stratify=stratify,
    )

    X_tr, codes_tr, w_tr = duplicate_rows(
        take_rows(X, train),
        soft_targets[train],
        sample_weight=weights_of(sample_weight, train),
    )
    X_va, codes_va, w_va = duplicate_rows(
        take_rows(X, val),
        soft_targets[val],
        sample_weight=weights_of(sample_weight, val),
    )
    student.set_params(early_stopping=True)
    return student.fit(
        X_tr,
        classes[codes_tr],
        sample_weight=w_tr,
        X_val=X_va,
        y_val=classes[codes_va],
        sample_weight_val=w_va,
    )


def keeps_tempered_output(student):
    """Whether ``student``, fitted at ``T != 1``, predicts the tempered targets.

    Boosters learn through the KD objective and logistic regression and
    perceptrons have their margins scaled back: those predict at ``T = 1``, and
    a student without ``sample_weight`` learns the most likely class only.
    Every other student (trees, forests, scikit-learn gradient boosting, any
    model of unknown margins) predicts probabilities as flat as ``q^T``.
    """
    route = _route(student)
    if route == "duplicated":
        return not isinstance(_final_step(student), _SCALED_MARGINS)
    # Boosters learn at T = 1; a student fitted on the most likely class
    # predicts what no temperature changes.
    return route == "tree"


def untempered(proba, temperature):
    """Probabilities at ``T = 1`` of ``proba`` predicted at ``temperature``."""
    return softmax(temperature * np.log(np.clip(proba, 1e-12, None)), axis=1)


def _scale_margins(model, temperature):
    """Multiply the margins of a student fitted at ``temperature`` by it.

    The student learnt margins ``z`` with ``softmax(z) = q^T``; ``T z`` are the
    margins whose tempered softmax matches the tempered teacher. Logistic
    regression scales its coefficients, a perceptron its output layer; the
    margins of other students (gradient boosting among them) are not scaled,
    so they keep the tempered targets.
    """
    if isinstance(model, LogisticRegression):
        model.coef_ *= temperature
        model.intercept_ *= temperature
    elif isinstance(model, MLPClassifier):
        model.coefs_[-1] *= temperature
        model.intercepts_[-1] *= temperature


def _route(student):
    """How :func:`fit_soft_student` fits ``student``.

    ``"boosted"`` (the KD objective), ``"tree"`` (a regressor on the soft
    targets), ``"duplicated"`` (rows weighted per class) or ``"most_likely"``
    (no ``sample_weight``: the most likely class only).
    """
    if is_boosted(student):
        return "boosted"
    if type(student) in _REGRESSOR_OF:
        return "tree"
    if takes_sample_weight(student):
        return "duplicated"
    return "most_likely"


def check_weighted_student(student):
    """Raise unless ``student`` can learn soft targets with row weights."""
    if _route(student) == "most_likely":
        raise ValueError(
            f"sample_weight was given, but {no_sample_weight(student, 'student')}."
        )


def fit_soft_student(
    student,
    X,
    teacher_proba,
    y,
    classes,
    *,
    alpha=0.5,
    temperature=1.0,
    schedule="constant",
    final_temperature=1.0,
    standardize=False,
    feature_names=None,
    sample_weight=None,
):
    """Fit ``student`` on the teacher's soft targets.

    Parameters
    ----------
    student : classifier
        Unfitted student; it is fitted in place unless the family needs a
        wrapper (trees and forests become :class:`SoftTargetClassifier`,
        LightGBM becomes :class:`MarginClassifier`).
    X : array-like of shape (n_samples, n_features)
        Training rows, transfer rows included.
    teacher_proba : ndarray of shape (n_samples, n_classes)
        Teacher probabilities at temperature 1, columns in ``classes`` order.
    y : ndarray of shape (n_samples,)
        Encoded labels in ``0..n_classes-1``, ``-1`` for unlabelled rows.
    classes : ndarray of shape (n_classes,)
        Original class labels.
    alpha : float, default=0.5
        Weight of the soft term.
    temperature : float, default=1.0
        Temperature (first-round temperature for scheduled students).
    schedule : {"constant", "linear", "cosine", "adaptive"}, default="constant"
        Per-round temperature schedule for XGBoost and LightGBM students;
        other students use ``temperature``.
    final_temperature : float, default=1.0
        Last-round temperature of the annealing schedules.
    standardize : bool, default=False
        Standardise the teacher logits per row before the temperature.
    feature_names : ndarray of str, default=None
        Column names the student is fitted with, so that the deployed student
        checks the columns of the DataFrames it is given; XGBoost and LightGBM
        students that refuse one of the names get the bare array.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights: they multiply each row's loss (its duplicated rows'
        weights, its squared error, its gradient and Hessian).

    Returns
    -------
    student : fitted classifier
        Predicts original labels, except XGBoost, which predicts codes.
    temperatures : list of float
        Temperature of each boosting round, or ``[temperature]``.
    """
    classes = np.asarray(classes)
    y = np.asarray(y)
    X = with_feature_names(X, feature_names)
    settings = dict(
        alpha=alpha,
        temperature=temperature,
        schedule=schedule,
        final_temperature=final_temperature,
        standardize=standardize,
    )
    route = _route(student)
    if sample_weight is not None:
        check_weighted_student(student)
    if route == "boosted":
        booster = _final_step(student)
        if sample_weight is not None:
            library = "XGBoost" if _is_xgboost(booster) else "LightGBM"
            check_booster_weights(np.asarray(sample_weight), booster, library)
        if isinstance(student, Pipeline):
            return _fit_boosted_pipeline(
                student, X, teacher_proba, y, classes, settings, sample_weight
            )
        return _fit_boosted(
            student, X, teacher_proba, y, classes, settings, sample_weight
        )

    soft_targets = soft_target_matrix(teacher_proba, y, alpha, temperature, standardize)
    if route == "tree":
        fitted = _fit_tree_regression(student, X, soft_targets, classes, sample_weight)
    elif route == "duplicated":
        fitted = _fit_duplicated(student, X, soft_targets, classes, sample_weight)
        if temperature != 1.0:
            _scale_margins(_final_step(fitted), temperature)
    else:
        reason = no_sample_weight(student, "student")
        warnings.warn(
            f"{reason[0].upper()}{reason[1:]}, so it cannot learn soft targets; "
            "it is trained on their most likely class (the label on labelled "
            "rows when alpha <= 0.5, the teacher's on transfer rows) instead.",
            UserWarning,
        )
        fitted = student.fit(X, classes[np.argmax(soft_targets, axis=1)])
    return fitted, [float(temperature)]


def aligned_proba(estimator, X, labels, method="predict_proba"):
    """``predict_proba`` (or ``method``) with one column per entry of ``labels``.

    ``labels`` are the labels the estimator was fitted with (original classes
    or codes); classes the estimator never saw get probability zero. An array
    gets the column names the estimator was fitted with.
    """
    X = with_feature_names(X, getattr(estimator, "feature_names_in_", None))
    seen = np.asarray(estimator.classes_)
    output = getattr(estimator, method)(X)
    proba = _checked_proba(estimator, output, (len(X), len(seen)))
    # Models that compute in float32 (XGBoost) give rows that sum to one only
    # to about 1e-8; scikit-learn's metrics check the sum in float64.
    proba /= proba.sum(axis=1, keepdims=True)
    labels = np.asarray(labels)
    if np.array_equal(seen, labels):
        return proba
    # Each column goes to its label's place: ``classes_`` may list labels in
    # another order than ``labels``, or only some of them.
    order = np.argsort(labels, kind="stable")
    places = order[
        np.clip(np.searchsorted(labels, seen, sorter=order), 0, len(order) - 1)
    ]
    unknown = labels[places] != seen
    if unknown.any():
        raise ValueError(
            f"{type(estimator).__name__} predicts the classes "
            f"{seen[unknown].tolist()}, which it was not fitted with; its classes "
            f"must be among {labels.tolist()}."
        )
    full = np.zeros((proba.shape[0], len(labels)))
    full[:, places] = proba
    return full


def student_labels(student, classes):
    """Labels a student fitted by :func:`fit_soft_student` predicts."""
    if _takes_codes_only(student):
        return np.arange(len(classes))
    return np.asarray(classes)


def _checked_proba(estimator, proba, shape):
    """``proba`` as floats; raise unless it holds ``shape`` probability rows."""
    if isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    name = type(estimator).__name__
    # A copy: a DataFrame's values can be a read-only view (pandas
    # copy-on-write), and the caller normalises the rows in place.
    proba = np.array(proba, dtype=float)
    if proba.shape != shape:
        raise ValueError(
            f"{name}.predict_proba returned an array of shape {proba.shape}; "
            f"expected {shape}, one column per class in its classes_."
        )
    bad = ~np.isfinite(proba) | (proba < 0)
    if bad.any():
        raise ValueError(
            f"{name}.predict_proba returned {float(proba[bad][0])}; probabilities "
            "must be finite and non-negative."
        )
    if np.any(proba.sum(axis=1) <= 0):
        raise ValueError(f"{name}.predict_proba returned a row of zeros.")
    return proba
