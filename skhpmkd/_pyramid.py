"""A pyramid of teachers: one on all classes, specialists on confused groups."""

import warnings
from math import ceil, sqrt
from numbers import Integral

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._base import SoftTargetOutputMixin, refuse_nan
from ._distiller import default_teacher, encode_target
from ._frames import take_rows, validate_rows, with_feature_names
from ._parallel import parallel_map
from ._sample_weight import (
    fit_weighted,
    no_sample_weight,
    takes_sample_weight,
    weights_of,
)
from ._soft_targets import aligned_proba
from ._teachers import (
    count_teacher_fits,
    fit_present_classes,
    fit_teacher,
    seed_estimator,
    shared_splits,
    teacher_proba,
)
from ._validation import HasFitAndProba, is_frozen


def soft_confusion(proba, y, n_classes, sample_weight=None):
    """Mean predicted distribution of the rows of each true class.

    Row ``a``, column ``b`` is the average probability the teacher gives class
    ``b`` on rows of class ``a``: a confusion matrix that also counts the
    confusions the teacher did not commit to. With ``sample_weight`` the mean
    is weighted. A class without rows (of positive weight) gets a row of
    zeros.
    """
    confusion = np.zeros((n_classes, n_classes))
    for code in range(n_classes):
        rows = y == code
        if sample_weight is not None:
            rows &= sample_weight > 0
        if not rows.any():
            continue
        confusion[code] = np.average(
            proba[rows], axis=0, weights=weights_of(sample_weight, rows)
        )
    return confusion


def split_classes(classes, confusion, n_groups=None):
    """Split ``classes`` (codes) into groups of most-confused classes.

    Average-linkage clustering of the classes on the symmetrised confusion
    (classes often mistaken for one another are close), cut into
    ``n_groups`` groups (``ceil(sqrt(len(classes)))`` when ``None``).
    Groups come back sorted by their smallest class.
    """
    classes = np.asarray(classes)
    if len(classes) < 2:
        return [classes]
    n_groups = ceil(sqrt(len(classes))) if n_groups is None else n_groups
    n_groups = min(n_groups, len(classes))
    similarity = confusion[np.ix_(classes, classes)]
    similarity = (similarity + similarity.T) / 2
    np.fill_diagonal(similarity, 0.0)
    distance = similarity.max() - similarity
    np.fill_diagonal(distance, 0.0)
    labels = fcluster(
        linkage(squareform(distance, checks=False), method="average"),
        t=n_groups,
        criterion="maxclust",
    )
    groups = [classes[labels == label] for label in np.unique(labels)]
    return sorted(groups, key=lambda group: group.min())


def build_pyramid(confusion, n_levels, n_groups=None):
    """Class groups of each level below the top: ``levels[l]`` lists code arrays.

    Every group of level ``l + 1`` lies inside one group of level ``l``; the
    top level (all classes) is implicit.
    """
    levels = []
    parents = [np.arange(len(confusion))]
    for _ in range(n_levels):
        children = []
        for parent in parents:
            children.extend(split_classes(parent, confusion, n_groups))
        levels.append(children)
        parents = children
    return levels


def check_weighted_specialist(specialist):
    """Raise unless ``specialist.fit`` takes row weights."""
    if not takes_sample_weight(specialist):
        raise ValueError(
            f"sample_weight was given, but {no_sample_weight(specialist, 'specialist')}"
            "; give a specialist that does (specialist=None means the teacher's)."
        )


def _fit_specialist(specialist, X, local_y, train, test, n_local, sample_weight):
    """Fit a specialist on ``train`` rows of its group; predict ``test`` rows.

    With no ``test``, fit on all of ``train`` and return the model. Rows of
    weight zero are left out. A fold whose group rows hold a single class
    gets that class's prior instead; one whose rows all weigh zero, the
    uniform distribution over their classes. A fold whose group rows lack
    some of the group's classes is fitted on the others renumbered without
    gaps (XGBoost takes no gap), and gives the missing ones probability 0.
    Also returns the number of models fitted: none for a prior standing in,
    an skhpmkd specialist's own ``n_models_fitted_``, one for any other.
    """
    stand_in = sample_weight is not None and not sample_weight.any()
    if stand_in:
        specialist, sample_weight = DummyClassifier(strategy="uniform"), None
    elif sample_weight is not None:
        kept = sample_weight > 0
        train, local_y, sample_weight = train[kept], local_y[kept], sample_weight[kept]
    present = np.unique(local_y)
    if len(present) < 2:
        specialist, stand_in = DummyClassifier(strategy="prior"), True
    elif test is not None and len(present) < n_local:
        proba = fit_present_classes(
            specialist,
            take_rows(X, train),
            local_y,
            take_rows(X, test),
            n_local,
            sample_weight,
        )
        return proba, _n_fits(specialist)
    fit_weighted(specialist, take_rows(X, train), local_y, sample_weight)
    n_fits = 0 if stand_in else _n_fits(specialist)
    if test is None:
        return specialist, n_fits
    return aligned_proba(specialist, take_rows(X, test), np.arange(n_local)), n_fits


def _n_fits(specialist):
    """Models fitting ``specialist`` trained: one, or an skhpmkd estimator's count."""
    return int(getattr(specialist, "n_models_fitted_", 1))


def fuse_pyramid(top_proba, groups, specialist_probas):
    """Fused targets ``q(k) = q_top(S) q_S(k | S)``, level by level.

    Each specialist's conditional distribution over its group replaces the
    distribution inside the group while the group keeps the probability mass
    the levels above gave it, so rows still sum to one.

    Parameters
    ----------
    top_proba : ndarray of shape (n_samples, n_classes)
        Probabilities of the all-class teacher.
    groups : list of list of ndarray
        Class codes of each group, level by level.
    specialist_probas : list of list of (ndarray or None)
        Each group's specialist probabilities over its classes, in the
        group's order; ``None`` for groups without a specialist.

    Returns
    -------
    fused : ndarray of shape (n_samples, n_classes)
    """
    fused = np.array(top_proba, dtype=float)
    for level_groups, level_probas in zip(groups, specialist_probas):
        for group, proba in zip(level_groups, level_probas):
            if proba is None:
                continue
            mass = fused[:, group].sum(axis=1, keepdims=True)
            fused[:, group] = mass * proba
    return fused / fused.sum(axis=1, keepdims=True)


def _needs_specialist(group, parent):
    return len(group) > 1 and len(group) < len(parent)


class PyramidTeacherClassifier(
    SoftTargetOutputMixin,
    ClassifierMixin,
    TransformerMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """A teacher on all classes refined by specialists on groups of classes.

    Level 0 is one teacher on all classes. Its out-of-fold confusion matrix
    groups the classes it confuses most; each level below splits every group
    of the level above again, and a specialist is trained on the rows of its
    group's classes only. The fused distribution is
    ``q(k) = q_top(S) q_S(k | S)``: the teacher decides among groups, the
    specialist within its group (recursively over the levels).

    ``fit_transform`` returns the out-of-fold fused targets, so the pyramid
    can be the ``teacher`` of :class:`TemperatureScheduledDistiller`. For an
    ensemble of students, distil the pyramid into several students and
    soft-vote them, e.g.
    ``VotingClassifier([(name, TemperatureScheduledDistiller(pyramid, student))
    ...], voting="soft")``; each member refits the pyramid on its own.

    Parameters
    ----------
    teacher : classifier, default=None
        Level-0 teacher on all classes: unfitted (fitted on a clone) or
        pre-fitted in a :class:`~sklearn.frozen.FrozenEstimator`. ``None``
        means ``HistGradientBoostingClassifier()``. A frozen teacher cannot
        be cross-fitted: its in-sample probabilities give the top level and
        the confusion matrix, and a teacher that memorised its rows confuses
        no classes there, so its classes get no specialists (with a
        warning).
    specialist : classifier, default=None
        Unfitted classifier cloned for every group. ``None`` means a clone of
        the teacher (of the estimator inside a frozen teacher).
    n_levels : int, default=1
        Number of specialist levels below the top teacher.
    n_groups : int, default=None
        Number of groups each group is split into at the next level;
        ``None`` means ``ceil(sqrt(size))`` for a group of ``size`` classes.
        Fewer come out when confusions tie (the clustering cannot cut
        between equal distances), down to one, no split, when all are equal
        (with three classes or more).
    cv : int, cross-validation generator or iterable, default=5
        Splitter for the out-of-fold probabilities of every level, split once
        per fit so that the teacher and the specialists share the folds. A
        group without training rows in a fold shares its probability evenly
        among its classes on the fold's test rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the teacher and the specialists.
    n_jobs : int, default=None
        Number of fits run in parallel.

    Attributes
    ----------
    teacher_ : classifier
        The level-0 teacher fitted on all rows (a frozen one as given). A
        frozen teacher and an skhpmkd estimator (which encodes the labels
        itself) were fitted on the labels; any other on the class codes
        ``0..n_classes-1``: its ``predict`` returns codes (``classes_[code]``
        is the label).
    groups_ : list of list of ndarray
        Class labels of each group, level by level (``groups_[0]`` is the
        first level below the teacher).
    specialists_ : list of list of (classifier or None)
        Fitted specialist of each group, ``None`` where a group has one class
        or repeats its parent group. It was fitted on the positions
        ``0..len(group)-1`` within its group: its ``predict`` returns a
        position ``i``, whose label is ``groups_[level][index][i]``.
    confusion_ : ndarray of shape (n_classes, n_classes)
        Out-of-fold (for a frozen teacher, in-sample) soft confusion matrix of
        the level-0 teacher that the groups were built from, weighted by
        ``sample_weight`` when given.
    n_models_fitted_ : int
        Models fitted: the level-0 teacher's (none when frozen) and every
        specialist's, on all rows of its group and on each fold whose rows
        of the group hold more than one class of positive weight (an skhpmkd
        specialist counts its own ``n_models_fitted_``).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AttentionMultiTeacherClassifier : Fuses teachers on all classes per sample.
    TemperatureScheduledDistiller : Distils the pyramid into a student.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skhpmkd import PyramidTeacherClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> pyramid = PyramidTeacherClassifier(
    ...     LogisticRegression(max_iter=2000), cv=3, random_state=0
    ... ).fit(X / 16, y)
    >>> len(pyramid.groups_[0])
    4
    >>> pyramid.predict_proba(X[:2] / 16).sum(axis=1).round(6)
    array([1., 1.])
    """

    _parameter_constraints: dict = {
        "teacher": [None, HasFitAndProba()],
        "specialist": [None, HasFitAndProba()],
        "n_levels": [Interval(Integral, 1, None, closed="left")],
        "n_groups": [None, Interval(Integral, 2, None, closed="left")],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        teacher=None,
        specialist=None,
        *,
        n_levels=1,
        n_groups=None,
        cv=5,
        random_state=None,
        n_jobs=None,
    ):
        self.teacher = teacher
        self.specialist = specialist
        self.n_levels = n_levels
        self.n_groups = n_groups
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _resolved(self):
        teacher = default_teacher() if self.teacher is None else self.teacher
        if self.specialist is not None:
            return teacher, self.specialist
        if isinstance(teacher, FrozenEstimator):
            return teacher, teacher.estimator
        return teacher, teacher

    def _named_input_estimators(self):
        return list(zip(("teacher", "specialist"), self._resolved()))

    def _fit(self, X, y, sample_weight):
        teacher, specialist = self._resolved()
        if is_frozen(specialist):
            raise ValueError(
                "specialist must be an unfitted classifier: one copy is trained "
                "per group of classes; got a FrozenEstimator."
            )
        # What predict uses, whatever set_params changes before a refit.
        self._nan_refused_by = self._nan_refusers()
        X, y = validate_rows(self, X, y, reset=True, ensure_all_finite="allow-nan")
        refuse_nan(self, X, self._nan_refused_by)
        self.classes_, codes = encode_target(self, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=float, ensure_non_negative=True, copy=True
            )
            # Before any fit; fit_teacher checks the teacher itself, which is
            # also the specialist when none is given.
            if specialist is not teacher:
                check_weighted_specialist(specialist)
        n_classes = len(self.classes_)
        rng = check_random_state(self.random_state)
        names = getattr(self, "feature_names_in_", None)
        # Split once: the teacher and the specialists are cross-fitted on the
        # same folds, even with a splitter that shuffles without a seed of its
        # own.
        splits = shared_splits(self.cv, X, codes)
        self.teacher_, top_proba = fit_teacher(
            seed_estimator(clone(teacher), rng),
            X,
            codes,
            self.classes_,
            cv=splits,
            n_jobs=self.n_jobs,
            feature_names=names,
            sample_weight=sample_weight,
        )
        self.confusion_ = soft_confusion(top_proba, codes, n_classes, sample_weight)
        groups = build_pyramid(self.confusion_, self.n_levels, self.n_groups)
        parents = self._parents(groups, n_classes)
        if isinstance(teacher, FrozenEstimator):
            self._warn_unsplit(groups, parents)

        named_X = with_feature_names(X, names)
        jobs, owners = [], []
        oof = [[None] * len(level_groups) for level_groups in groups]
        for level, level_groups in enumerate(groups):
            for index, group in enumerate(level_groups):
                if not _needs_specialist(group, parents[level][index]):
                    continue
                rows = np.flatnonzero(np.isin(codes, group))
                local_y = np.searchsorted(group, codes)
                size = len(group)
                oof[level][index] = np.zeros((len(codes), size))
                model = seed_estimator(clone(specialist), rng)
                for train, test in splits:
                    fold_rows = np.intersect1d(train, rows)
                    if not len(fold_rows):
                        # No rows to fit on: the uniform prior without a fit,
                        # as for rows that all weigh zero.
                        oof[level][index][test] = 1 / size
                        continue
                    local = local_y[fold_rows]
                    weight = weights_of(sample_weight, fold_rows)
                    jobs.append(
                        (clone(model), named_X, local, fold_rows, test, size, weight)
                    )
                    owners.append((level, index, test))
                weight = weights_of(sample_weight, rows)
                jobs.append((model, named_X, local_y[rows], rows, None, size, weight))
                owners.append((level, index, None))
        results = parallel_map(_fit_specialist, jobs, self.n_jobs)
        specialist_fits = sum(n_fits for _, n_fits in results)
        self.n_models_fitted_ = specialist_fits + count_teacher_fits(
            teacher, self.teacher_, splits, X, codes
        )

        self.specialists_ = [[None] * len(level_groups) for level_groups in groups]
        for (level, index, test), (result, _) in zip(owners, results):
            if test is None:
                self.specialists_[level][index] = result
                continue
            oof[level][index][test] = result
        self._group_codes = groups
        self.groups_ = [[self.classes_[group] for group in level] for level in groups]
        return fuse_pyramid(top_proba, groups, oof)

    def _warn_unsplit(self, groups, parents):
        """Warn of groups of several classes that a frozen teacher left unsplit."""
        unsplit = {
            tuple(group)
            for level_groups, level_parents in zip(groups, parents)
            for group, parent in zip(level_groups, level_parents)
            if 1 < len(group) == len(parent)
        }
        for group in sorted(unsplit):
            labels = [str(label) for label in self.classes_[list(group)]]
            warnings.warn(
                f"PyramidTeacherClassifier could not split the classes {labels} "
                "into groups, so they get no specialist: the frozen level-0 "
                "teacher's confusions between them (confusion_) tie, as they do "
                "(all zero) when it memorised its training rows. A frozen "
                "teacher is not cross-fitted; an unfitted one is, and shows its "
                "out-of-fold confusions.",
                UserWarning,
            )

    @staticmethod
    def _parents(groups, n_classes):
        """The group each group was split from, level by level."""
        parents = [[np.arange(n_classes)] * len(groups[0])]
        for upper, lower in zip(groups, groups[1:]):
            parents.append(
                [next(p for p in upper if np.isin(g, p).all()) for g in lower]
            )
        return parents

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the teacher, group the classes and fit the specialists.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, given to every fit of the teacher and of
            the specialists (which leave out rows of weight zero) and
            weighting the mean of ``confusion_``. The folds do not use them.

        Returns
        -------
        self : object
            The fitted pyramid.
        """
        self._fit(X, y, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y, sample_weight=None):
        """Fit, and return the out-of-fold fused pyramid targets of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (see :meth:`fit`).

        Returns
        -------
        soft_targets : ndarray of shape (n_samples, n_classes)
            Fused probabilities at temperature 1, columns in ``classes_``
            order; each row's come from models that did not see it.
        """
        return self._fit(X, y, sample_weight)

    def predict_proba(self, X):
        """Fused class probabilities ``q_top(S) q_S(k | S)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; rows sum to one.
        """
        check_is_fitted(self)
        X = validate_rows(self, X, reset=False, ensure_all_finite="allow-nan")
        refuse_nan(self, X, self._nan_refused_by)
        top_proba = teacher_proba(self.teacher_, X, self.classes_)
        specialist_probas = [
            [
                (
                    None
                    if model is None
                    else aligned_proba(model, X, np.arange(len(group)))
                )
                for model, group in zip(level_models, level_groups)
            ]
            for level_models, level_groups in zip(self.specialists_, self._group_codes)
        ]
        return fuse_pyramid(top_proba, self._group_codes, specialist_probas)

    def transform(self, X):
        """The fused soft targets, the same as :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        soft_targets : ndarray of shape (n_samples, n_classes)
            Fused probabilities at temperature 1.
        """
        check_is_fitted(self)
        return self.predict_proba(X)
