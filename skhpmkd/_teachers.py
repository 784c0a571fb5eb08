"""Teacher soft targets on the training rows: cross-fitted, out-of-bag or frozen."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ._base import VersionedStateMixin, allows_nan
from ._frames import same_columns, take_rows, with_feature_names
from ._parallel import parallel_map
from ._sample_weight import (
    check_fold_weights,
    fit_weighted,
    no_sample_weight,
    takes_sample_weight,
    weights_of,
)
from ._soft_targets import _top_module, aligned_proba


def seed_estimator(estimator, random_state):
    """Give every unset ``random_state`` parameter of ``estimator`` a seed.

    Seeds the user set explicitly are kept. Returns the estimator.
    """
    if isinstance(estimator, FrozenEstimator):
        return estimator
    seeds = {
        key: random_state.randint(np.iinfo(np.int32).max)
        for key, value in sorted(estimator.get_params(deep=True).items())
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    }
    return estimator.set_params(**seeds)


def check_frozen_classes(teacher, classes):
    """Raise if a pre-fitted teacher is not fitted, or was fitted on other
    classes than ``y``."""
    name = type(teacher.estimator).__name__
    check_is_fitted(
        teacher.estimator,
        msg=(
            f"The pre-fitted teacher (a FrozenEstimator of a {name}) is not fitted; "
            "fit it before freezing it, or pass it unfrozen to be fitted here."
        ),
    )
    teacher_classes = np.asarray(teacher.classes_)
    if len(teacher_classes) != len(classes) or not np.array_equal(
        np.sort(teacher_classes), np.asarray(classes)
    ):
        raise ValueError(
            f"The pre-fitted teacher was fitted on classes {teacher_classes.tolist()}, "
            f"but y has classes {np.asarray(classes).tolist()}."
        )


def check_frozen_features(teacher, feature_names, n_features):
    """Raise if a pre-fitted teacher saw other columns than ``X``.

    ``X`` has ``n_features`` columns, named ``feature_names``. Rows without
    column names (``feature_names=None``) are given the teacher's names, so
    only two lists of names can disagree.
    """
    teacher_width = getattr(teacher, "n_features_in_", None)
    if teacher_width is not None and teacher_width != n_features:
        raise ValueError(
            f"The pre-fitted teacher (a FrozenEstimator of a "
            f"{type(teacher.estimator).__name__}) was fitted on {teacher_width} "
            f"features, but X has {n_features} features."
        )
    teacher_names = getattr(teacher, "feature_names_in_", None)
    if same_columns(teacher_names, feature_names):
        return
    # LightGBM reports a column "a b" as "a_b" and accepts either.
    underscored = [str(name).replace(" ", "_") for name in feature_names]
    if not (
        same_columns(teacher_names, underscored)
        and _names_come_from_lightgbm(teacher, teacher_names)
    ):
        raise ValueError(
            "The pre-fitted teacher was fitted on columns "
            f"{[str(name) for name in teacher_names]}, but X has columns "
            f"{[str(name) for name in feature_names]}; give X the teacher's "
            "columns, in the same order."
        )


def _names_come_from_lightgbm(teacher, names):
    """Whether a LightGBM model in ``teacher`` reports ``names`` as its own.

    The model can be the teacher or inside it (a pipeline, a calibration's
    folds). A model behind a step that records the names itself (a scaler)
    was fitted without them, and reports none.
    """
    if isinstance(teacher, FrozenEstimator):
        teacher = teacher.estimator
    folds = getattr(teacher, "calibrated_classifiers_", [])
    parts = [teacher, *(fold.estimator for fold in folds)]
    try:
        parts += list(teacher.get_params(deep=True).values())
    except Exception:  # a duck-typed model without scikit-learn's parameters
        pass
    for part in parts:
        if _top_module(part) != "lightgbm":
            continue
        try:
            own = part.feature_names_in_
        except Exception:  # unfitted, or fitted without names
            continue
        if same_columns(own, names):
            return True
    return False


def teacher_proba(teacher, X, classes):
    """Teacher probabilities with columns in ``classes`` order.

    Frozen teachers were fitted by the user on the original labels; teachers
    fitted here saw the codes ``0..n_classes-1``.
    """
    if isinstance(teacher, FrozenEstimator):
        order = np.argsort(np.asarray(teacher.classes_))
        return aligned_proba(teacher, X, np.asarray(teacher.classes_))[:, order]
    # An skhpmkd estimator's transform gives, on any rows, the knowledge its
    # fit_transform gave on the training rows (a distiller's teacher, not its
    # student), so every row is labelled by the same model. It was fitted on
    # the labels (see fit_teacher).
    if _yields_soft_targets(teacher):
        method = "transform" if hasattr(teacher, "transform") else "predict_proba"
        return aligned_proba(teacher, X, np.asarray(classes), method=method)
    return aligned_proba(teacher, X, np.arange(len(classes)))


def _yields_soft_targets(teacher):
    """Whether ``fit_transform`` gives the teacher's out-of-fold soft targets.

    Only skhpmkd's estimators mark themselves so; other classifiers with a
    ``fit_transform`` (linear discriminant analysis, voting and stacking
    ensembles) are cross-fitted like any classifier.
    """
    return getattr(teacher, "_fit_transform_gives_soft_targets", False)


def _uses_oob(teacher):
    params = teacher.get_params()
    return "oob_score" in params and params.get("bootstrap", False)


def _fit_fold(estimator, X, y, train, test, n_classes, sample_weight=None):
    """Fit on ``train`` and predict ``test``; with no split, fit on all rows.

    Training rows that lack classes are fitted by
    :func:`fit_present_classes`. Rows of one class are not fitted: any model
    of them gives that class probability 1, and some (XGBoost, logistic
    regression) refuse them.
    """
    if train is None:
        return fit_weighted(estimator, X, y, sample_weight)
    present = np.unique(y[train])
    if len(present) == n_classes:
        weight = weights_of(sample_weight, train)
        fit_weighted(estimator, take_rows(X, train), y[train], weight)
        return aligned_proba(estimator, take_rows(X, test), np.arange(n_classes))
    if len(present) == 1:
        proba = np.zeros((len(test), n_classes))
        proba[:, present[0]] = 1.0
        return proba
    return fit_present_classes(
        estimator,
        take_rows(X, train),
        y[train],
        take_rows(X, test),
        n_classes,
        weights_of(sample_weight, train),
    )


def fit_present_classes(estimator, X_train, y_train, X_test, n_classes, weight):
    """Probabilities of ``X_test`` from ``estimator`` fitted on rows that lack
    some of the codes ``0..n_classes-1``: it is fitted on the codes present,
    renumbered without gaps (XGBoost takes no gap), and the missing codes get
    probability 0."""
    present = np.unique(y_train)
    fit_weighted(estimator, X_train, np.searchsorted(present, y_train), weight)
    proba = np.zeros((len(X_test), n_classes))
    proba[:, present] = aligned_proba(estimator, X_test, np.arange(len(present)))
    return proba


def fitted_folds(splits, y):
    """How many of ``splits`` :func:`_fit_fold` fits a model on: those whose
    training rows hold more than one class."""
    return sum(len(np.unique(y[train])) > 1 for train, _ in splits)


def never_out_of_bag(forest):
    """Rows in every bootstrap sample of a forest fitted with ``oob_score``."""
    oob = np.asarray(forest.oob_decision_function_, dtype=float)
    return ~np.isfinite(oob).all(axis=1) | (oob.sum(axis=1) <= 0)


def _out_of_bag(teacher, X, y, n_classes, sample_weight=None):
    teacher.set_params(oob_score=True)
    with warnings.catch_warnings():
        # Rows in every bootstrap sample have no out-of-bag estimate: a copy
        # fitted on the other rows predicts them below.
        warnings.filterwarnings("ignore", message=".*OOB.*", category=UserWarning)
        fit_weighted(teacher, X, y, sample_weight)
    oob = np.array(teacher.oob_decision_function_, dtype=float)
    missing = never_out_of_bag(teacher)
    if missing.any():
        others = clone(teacher).set_params(oob_score=False)
        train, test = np.flatnonzero(~missing), np.flatnonzero(missing)
        if sample_weight is not None and not np.sum(sample_weight[train]) > 0:
            raise ValueError(
                f"{len(test)} rows are in every bootstrap sample of the teacher "
                f"{type(teacher).__name__} (drawn in proportion to sample_weight), "
                "so they have no out-of-bag soft targets, and the other "
                f"{len(train)} rows, on which a copy would be fitted to give them "
                "some, all have sample_weight 0. Give more rows a positive "
                "weight, or a teacher with bootstrap=False, which is cross-fitted."
            )
        oob[missing] = _fit_fold(others, X, y, train, test, n_classes, sample_weight)
    return oob / oob.sum(axis=1, keepdims=True)


def count_teacher_fits(teacher, fitted, cv, X, y):
    """Models :func:`fit_teacher` fitted for ``teacher``, which became ``fitted``.

    A frozen teacher fits none; an skhpmkd estimator (which gives its own
    out-of-fold targets) as many as it reports (a precomputed teacher, none);
    a bagged forest one, and one more when some rows were in every bootstrap
    sample; any other teacher one per fold of ``cv`` on ``X, y`` (a splitter
    resolved once, so that the folds counted are the ones fitted) whose
    training rows hold more than one class, and one on all rows.
    """
    if isinstance(teacher, FrozenEstimator):
        return 0
    if _yields_soft_targets(teacher):
        return int(getattr(fitted, "n_models_fitted_", 0))
    if _uses_oob(teacher):
        return 1 + int(never_out_of_bag(fitted).any())
    return fitted_folds(check_cv(cv, y, classifier=True).split(X, y), y) + 1


def check_weighted_teacher(teacher):
    """Raise unless ``teacher`` can be fitted with row weights.

    A frozen teacher is not fitted again, so it needs none.
    """
    if isinstance(teacher, FrozenEstimator):
        return
    # An skhpmkd teacher is fitted through fit_transform, which calls its fit.
    if _yields_soft_targets(teacher):
        if has_fit_parameter(teacher, "sample_weight"):
            return
        reason = f"the teacher {type(teacher).__name__}.fit_transform takes no "
        reason += "sample_weight"
    elif takes_sample_weight(teacher):
        return
    else:
        reason = no_sample_weight(teacher, "teacher")
    raise ValueError(
        f"sample_weight was given, but {reason}; give a teacher that does, or a "
        "fitted one in a FrozenEstimator."
    )


class _SharedSplits(list):
    """Splits that :func:`shared_splits` made and checked already."""


def shared_splits(cv, X, y):
    """One list of cross-validation splits that covers every row exactly once.

    Given such a list as ``cv`` (to fit a teacher on the folds of the steps
    that follow it), it returns it as it is, checked and warned of once.
    """
    if isinstance(cv, _SharedSplits):
        return cv
    try:
        splits = _SharedSplits(check_cv(cv, y, classifier=True).split(X, y))
    except ValueError as error:
        if "'groups' parameter should not be None" not in str(error):
            raise
        raise ValueError(
            f"cv={cv!r} splits by groups, which fit does not take; pass its "
            "splits instead: cv=list(cv.split(X, y, groups))."
        ) from error
    if not len(splits):
        raise ValueError(
            "cv gave no splits. A generator of splits is spent after "
            "one fit; pass a list of them, cv=list(...), or a splitter."
        )
    covered = np.zeros(len(y), dtype=int)
    for _, test in splits:
        covered[test] += 1
    if np.any(covered != 1):
        raise ValueError(
            "cv must put every training row in exactly one test fold to give "
            f"out-of-fold soft targets; {int(np.sum(covered != 1))} rows are not."
        )
    _warn_of_missing_classes(splits, y)
    return splits


def _warn_of_missing_classes(splits, y):
    """Warn if the training rows of a fold lack a class: its model cannot give
    that class any probability on the fold's test rows."""
    n_classes = len(np.unique(y))
    short = [
        index + 1
        for index, (train, _) in enumerate(splits)
        if len(np.unique(y[train])) < n_classes
    ]
    if short:
        which, whose = ("fold", "its") if len(short) == 1 else ("folds", "their")
        warnings.warn(
            f"The training rows of cross-validation {which} "
            f"{', '.join(map(str, short))} (of {len(splits)}) lack a class of the "
            f"{n_classes}: the out-of-fold soft targets of {whose} test rows give "
            "it probability 0. Give each class more rows than folds, or a "
            "splitter that stratifies by class (an int cv does).",
            UserWarning,
        )


def fit_teacher(
    teacher,
    X,
    y,
    classes,
    *,
    cv=5,
    n_jobs=None,
    feature_names=None,
    sample_weight=None,
):
    """Fit a teacher and return it with its soft targets on the training rows.

    Parameters
    ----------
    teacher : classifier
        Unfitted teacher (cloned here), or a ``FrozenEstimator``.
    X : array-like of shape (n_samples, n_features)
        Training rows.
    y : ndarray of shape (n_samples,)
        Encoded labels ``0..n_classes-1``.
    classes : ndarray of shape (n_classes,)
        Original labels.
    cv : int, cross-validation generator or iterable, default=5
        Splitter for the out-of-fold predictions.
    n_jobs : int, default=None
        Number of fits run in parallel.
    feature_names : ndarray of str or None, default=None
        Column names of ``X`` (an array), given to the teacher with the rows.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights for every fit of the teacher (a frozen teacher is not
        fitted). The folds are split without them.

    Returns
    -------
    teacher_ : fitted classifier
        The teacher fitted on all rows (the frozen teacher itself).
    soft_targets : ndarray of shape (n_samples, n_classes)
        Out-of-fold (or out-of-bag) probabilities; a frozen teacher's plain
        probabilities, since it cannot be refitted.
    """
    n_classes = len(classes)
    if isinstance(teacher, FrozenEstimator):
        check_frozen_classes(teacher, classes)
        check_frozen_features(teacher, feature_names, X.shape[1])
        return teacher, teacher_proba(teacher, X, classes)
    X = with_feature_names(X, feature_names)
    teacher = clone(teacher)
    if sample_weight is not None:
        check_weighted_teacher(teacher)
    if _yields_soft_targets(teacher):
        # Given the labels, not their codes: pre-fitted teachers inside it
        # know the labels. It encodes them itself, and its columns follow
        # the sorted labels, which is the codes' order.
        labels = np.asarray(classes)[y]
        weight = {} if sample_weight is None else {"sample_weight": sample_weight}
        soft_targets = teacher.fit_transform(X, labels, **weight)
        return teacher, np.asarray(soft_targets, dtype=float)
    if _uses_oob(teacher):
        return teacher, _out_of_bag(teacher, X, y, n_classes, sample_weight)

    splits = shared_splits(cv, X, y)
    check_fold_weights(sample_weight, splits, "the teacher")
    jobs = [
        (clone(teacher), X, y, train, test, n_classes, sample_weight)
        for train, test in splits
    ]
    jobs.append((teacher, X, y, None, None, n_classes, sample_weight))
    *fold_probas, teacher_ = parallel_map(_fit_fold, jobs, n_jobs)
    soft_targets = np.zeros((len(y), n_classes))
    for (_, test), proba in zip(splits, fold_probas):
        soft_targets[test] = proba
    return teacher_, soft_targets


class PrecomputedTeacher(VersionedStateMixin, ClassifierMixin, BaseEstimator):
    """A fitted teacher whose out-of-fold targets are already computed.

    Lets :class:`ProgressiveChainClassifier` start from the targets this fit
    computed once, instead of cross-fitting the teacher again.
    """

    _fit_transform_gives_soft_targets = True

    def __init__(self, teacher=None, targets=None):
        self.teacher = teacher
        self.targets = targets

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The wrapped teacher is frozen; whether it takes NaN is its own tag.
        tags.input_tags.allow_nan = allows_nan(getattr(self.teacher, "estimator", None))
        return tags

    def fit_transform(self, X, y, sample_weight=None):
        # The targets were computed with the weights already.
        if len(X) != len(self.targets):
            raise ValueError(
                f"The precomputed targets cover {len(self.targets)} rows, not {len(X)}."
            )
        self.classes_ = np.arange(self.targets.shape[1])
        self.n_features_in_ = X.shape[1]
        return self.targets

    def fit(self, X, y, sample_weight=None):
        self.fit_transform(X, y)
        return self

    def predict_proba(self, X):
        return teacher_proba(self.teacher, X, self.classes_)
