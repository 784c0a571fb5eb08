"""Several teachers fused per sample: uniform, CAMKD, entropy or learned attention."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
    is_classifier,
)
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_memory,
)

from ._base import SoftTargetOutputMixin, imputed_logistic, refuse_nan
from ._attention import (
    ATTENTION_FEATURES,
    attention_weights,
    camkd_weights,
    entropy_weights,
    fit_attention,
    fuse,
    stack_probas,
    teacher_features,
    teacher_performance,
    uniform_weights,
)
from ._distiller import encode_target
from ._frames import validate_rows, with_feature_names
from ._parallel import parallel_map
from ._sample_weight import check_fold_weights
from ._teachers import (
    _fit_fold,
    _uses_oob,
    _yields_soft_targets,
    check_frozen_classes,
    check_frozen_features,
    check_weighted_teacher,
    count_teacher_fits,
    fit_teacher,
    seed_estimator,
    shared_splits,
    teacher_proba,
)
from ._validation import has_predict_proba

WEIGHTINGS = ("attention", "uniform", "camkd", "entropy")


def default_teachers():
    """Three light, diverse teachers: a linear model, a forest and boosting."""
    return [
        ("logistic", imputed_logistic()),
        ("forest", RandomForestClassifier(n_estimators=100, min_samples_leaf=2)),
        ("boosting", HistGradientBoostingClassifier(max_iter=50)),
    ]


def _is_drop(estimator):
    return isinstance(estimator, str) and estimator == "drop"


def active_pairs(pairs):
    """The ``(name, estimator)`` pairs whose estimator is not ``"drop"``."""
    return [pair for pair in pairs if not _is_drop(pair[1])]


def check_named_estimators(owner, pairs, role):
    """Check a list of ``(name, estimator)`` pairs as ``VotingClassifier`` does.

    Raises ``ValueError`` for an empty list, malformed pairs, duplicate or
    invalid names, every estimator set to ``"drop"``, and estimators that are
    not classifiers with ``predict_proba``, naming the offending entry.
    """
    if not pairs:
        raise ValueError(
            f"{role} must be a non-empty list of (name, estimator) pairs; "
            f"got {pairs!r}."
        )
    for pair in pairs:
        is_pair = isinstance(pair, tuple) and len(pair) == 2
        if not (is_pair and isinstance(pair[0], str)):
            raise ValueError(
                f"Every entry of {role} must be a (name, estimator) tuple with a "
                f"string name; got {pair!r}."
            )
    names = [name for name, _ in pairs]
    owner._validate_names(names)
    if not active_pairs(pairs):
        raise ValueError(
            f"Every one of the {role} is 'drop'; at least one must be a classifier."
        )
    owner._check_estimators_are_instances([estimator for _, estimator in pairs])
    for name, estimator in active_pairs(pairs):
        if not hasattr(estimator, "fit") or not is_classifier(estimator):
            raise ValueError(
                f"The {role[:-1]} {name!r} ({type(estimator).__name__}) is not a "
                "classifier."
            )
        if not has_predict_proba(estimator):
            raise ValueError(
                f"The {role[:-1]} {name!r} ({type(estimator).__name__}) does not "
                "implement predict_proba; every one must give class probabilities."
            )


def check_weighted_teachers(pairs):
    """Raise, naming it, for the first teacher that cannot take row weights."""
    for name, teacher in pairs:
        try:
            check_weighted_teacher(teacher)
        except ValueError as error:
            raise type(error)(f"Teacher {name!r}: {error}") from None


def _teacher_job(teacher, X, y, classes, cv, train, test, sample_weight):
    """One unit of parallel teacher work.

    With ``cv`` set, the whole teacher goes through :func:`fit_teacher`
    (out-of-bag, its own ``fit_transform``); otherwise one fold (``train`` and
    ``test`` set) or the final fit on all rows. Every fit gets its rows'
    ``sample_weight``.
    """
    if cv is not None:
        return fit_teacher(
            teacher, X, y, classes, cv=cv, n_jobs=1, sample_weight=sample_weight
        )
    return _fit_fold(teacher, X, y, train, test, len(classes), sample_weight)


def fit_teachers(
    teachers,
    X,
    y,
    classes,
    *,
    cv=5,
    n_jobs=None,
    feature_names=None,
    sample_weight=None,
):
    """Fit every teacher and return them with their out-of-fold probabilities.

    All folds of all cross-fitted teachers, and their final fits, run in one
    parallel call on the same splits; out-of-bag and self-cross-fitting
    teachers are one job each; frozen teachers are only asked to predict.
    Teachers see the rows with ``feature_names`` as column names, if given.
    Every fit gets its rows' ``sample_weight``, if given; the folds are split
    without them.

    Returns
    -------
    fitted : list of classifiers
    probas : ndarray of shape (n_teachers, n_samples, n_classes)
        Columns in class-code order.
    """
    jobs, owners = [], []
    splits = None
    named_X = with_feature_names(X, feature_names)
    for index, teacher in enumerate(teachers):
        if isinstance(teacher, FrozenEstimator):
            continue
        if _yields_soft_targets(teacher) or _uses_oob(teacher):
            jobs.append((teacher, named_X, y, classes, cv, None, None, sample_weight))
            owners.append((index, "whole", None))
            continue
        if splits is None:
            splits = shared_splits(cv, X, y)
            check_fold_weights(sample_weight, splits, "the teachers")
        for train, test in splits:
            jobs.append(
                (clone(teacher), named_X, y, classes, None, train, test, sample_weight)
            )
            owners.append((index, "fold", test))
        jobs.append((teacher, named_X, y, classes, None, None, None, sample_weight))
        owners.append((index, "full", None))
    results = parallel_map(_teacher_job, jobs, n_jobs)

    fitted = list(teachers)
    probas = np.zeros((len(teachers), len(y), len(classes)))
    for index, teacher in enumerate(teachers):
        if isinstance(teacher, FrozenEstimator):
            fitted[index], probas[index] = fit_teacher(
                teacher, X, y, classes, feature_names=feature_names
            )
    for (index, kind, test), result in zip(owners, results):
        if kind == "whole":
            fitted[index], probas[index] = result
        elif kind == "fold":
            probas[index][test] = result
        else:
            fitted[index] = result
    return fitted, probas


def _check_frozen_teachers(named, classes, X, estimator):
    """Raise, naming the teacher, if a pre-fitted one does not fit ``X`` and ``y``.

    Checked before any teacher is fitted.
    """
    feature_names = getattr(estimator, "feature_names_in_", None)
    for name, teacher in named:
        if not isinstance(teacher, FrozenEstimator):
            continue
        try:
            check_frozen_classes(teacher, classes)
            check_frozen_features(teacher, feature_names, X.shape[1])
        except ValueError as error:
            raise type(error)(f"Teacher {name!r}: {error}") from None


class AttentionMultiTeacherClassifier(
    SoftTargetOutputMixin,
    ClassifierMixin,
    TransformerMixin,
    MetaEstimatorMixin,
    _BaseComposition,
):
    """Fuse several teachers per sample into one distribution.

    The teachers' out-of-fold probabilities are computed once, in parallel,
    then fused row by row as a weighted average ``q(x) = sum_i w_i(x) p_i(x)``.
    Fusing distributions this way is exactly weighting each teacher's
    distillation term per sample (at temperature 1: a distiller tempers the
    fused distribution). ``fit_transform`` returns the out-of-fold
    fused targets, so the estimator can be the ``teacher`` of
    :class:`TemperatureScheduledDistiller`: one student learns from many
    teachers.

    Parameters
    ----------
    teachers : list of (str, estimator) tuples, default=None
        Named classifiers with ``predict_proba``, unfitted (fitted on clones)
        or pre-fitted and wrapped in :class:`~sklearn.frozen.FrozenEstimator`.
        Their parameters are reachable as ``<name>__<param>``, and a teacher
        set to ``"drop"`` is left out, as in
        :class:`~sklearn.ensemble.VotingClassifier`: with
        ``teachers=[("tree", ...), ("bayes", ...)]``,
        ``set_params(bayes="drop")`` fits the tree alone. The default
        teachers (``None``) have no names to set. A frozen
        teacher cannot be cross-fitted: its probabilities on the training
        rows are its plain predictions, so when it saw those rows, the
        label-aware weightings (``"camkd"``, ``"attention"``) overrate it.
        ``None`` means a standardised logistic regression, a 100-tree random
        forest and a 50-round histogram gradient boosting model.
    weighting : {"attention", "uniform", "camkd", "entropy"}, default="attention"
        How teachers are weighted on each row.

        - ``"uniform"``: ``1 / M`` (vanilla multi-teacher KD).
        - ``"camkd"``: ``w_i = (1 - softmax_i(CE_i(x))) / (M - 1)`` with the
          teachers' cross-entropies on the true label. It needs labels, so it
          is used per sample on the training rows (``fit_transform``); at
          predict time, without labels, each teacher gets its mean CAMKD
          weight over the out-of-fold training rows (``teacher_weights_``).
        - ``"entropy"``: label-free ``softmax_i(-H(p_i(x)))``: confident
          teachers count more.
        - ``"attention"``: ``softmax_i(a . f_i(x))`` where ``f_i(x)`` holds
          the teacher's confidence, its agreement with the consensus, its
          global out-of-fold performance and its diversity from the others
          (all label-free, so the same rule applies at predict time). ``a``
          is learned by minimising the fused out-of-fold log-loss with
          L-BFGS from ``a = 0`` (the uniform average) with an L2 penalty,
          so the fused log-loss on those rows is never above the uniform
          average's.
    cv : int, cross-validation generator or iterable, default=5
        Splitter for the teachers' out-of-fold probabilities. Bagged forests
        (``bootstrap=True`` and an ``oob_score`` parameter, whatever its
        value) give out-of-bag probabilities
        from one fit instead (rows in every bootstrap sample are predicted by
        a copy fitted on the other rows); skhpmkd estimators among the
        teachers use their own ``fit_transform``.
    attention_l2 : float, default=1e-4
        Strength of the L2 penalty on the attention vector.
    memory : str or object with the joblib.Memory interface, default=None
        Caches the teachers' fits and out-of-fold probabilities, as
        :class:`~sklearn.pipeline.Pipeline` caches its transformers: refitting
        with another ``weighting`` or ``attention_l2`` on the same data then
        reuses them, when ``random_state`` fixes the teachers' seeds. ``None``
        caches nothing; a string is a cache directory.
    random_state : int, RandomState instance or None, default=None
        Seeds the teachers' unset ``random_state`` parameters.
    n_jobs : int, default=None
        Number of teacher fits (one per fold and teacher) run in parallel.

    Attributes
    ----------
    teachers_ : list of classifiers
        The teachers fitted on all rows (frozen teachers as given). Frozen
        teachers and skhpmkd estimators (which encode the labels themselves)
        were fitted on the labels; the others on the class codes
        ``0..n_classes-1``: their ``predict`` returns codes (``classes_[code]``
        is the label).
    named_teachers_ : :class:`~sklearn.utils.Bunch`
        The fitted teachers by name.
    teacher_names_ : list of str
        Teacher names, in order.
    teacher_log_loss_ : ndarray of shape (n_teachers,)
        Out-of-fold log-loss of each teacher on the training rows (in-sample
        for frozen teachers), weighted by ``sample_weight`` if given.
    teacher_weights_ : ndarray of shape (n_teachers,)
        Mean weight of each teacher over the training rows, weighted by
        ``sample_weight`` if given.
    attention_ : ndarray of shape (4,) or None
        The learned attention vector ``a`` for ``weighting="attention"``, in
        the order of ``attention_features_``; ``None`` otherwise.
    attention_features_ : tuple of str
        Names of the attention features.
    n_models_fitted_ : int
        Teacher fits: one per fold of ``cv`` whose training rows hold more
        than one class and one on all rows for each teacher (frozen teachers
        none, a bagged forest one or two, an skhpmkd estimator its own
        ``n_models_fitted_``); 0 when ``memory`` held them.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    TemperatureScheduledDistiller : Distils one teacher, such as this one.
    PyramidTeacherClassifier : Fuses a teacher with class-subset specialists.
    sklearn.ensemble.VotingClassifier : Soft voting with fixed weights.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skhpmkd import AttentionMultiTeacherClassifier
    >>> X, y = make_classification(
    ...     n_samples=300, n_informative=4, n_classes=3, random_state=0
    ... )
    >>> ensemble = AttentionMultiTeacherClassifier(
    ...     [("tree", DecisionTreeClassifier(max_depth=3)),
    ...      ("logistic", LogisticRegression()),
    ...      ("bayes", GaussianNB())],
    ...     random_state=0,
    ... )
    >>> soft_targets = ensemble.fit_transform(X, y)
    >>> soft_targets.shape
    (300, 3)
    >>> bool(abs(ensemble.teacher_weights_.sum() - 1) < 1e-9)
    True
    """

    _parameter_constraints: dict = {
        "teachers": [list, None],
        "weighting": [StrOptions(set(WEIGHTINGS))],
        "cv": ["cv_object"],
        "attention_l2": [Interval(Real, 0, None, closed="left")],
        "memory": [None, str, HasMethods(["cache"])],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        teachers=None,
        *,
        weighting="attention",
        cv=5,
        attention_l2=1e-4,
        memory=None,
        random_state=None,
        n_jobs=None,
    ):
        self.teachers = teachers
        self.weighting = weighting
        self.cv = cv
        self.attention_l2 = attention_l2
        self.memory = memory
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self, deep=True):
        """Parameters of this estimator and, with ``deep``, of its teachers.

        Parameters
        ----------
        deep : bool, default=True
            Also return the teachers by name and their parameters as
            ``<name>__<param>``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return self._get_params("teachers", deep=deep)

    def set_params(self, **params):
        """Set parameters, including a teacher by name or its parameters.

        Parameters
        ----------
        **params : keyword arguments
            ``teachers``, a teacher name, ``<name>__<param>`` or any
            constructor argument.

        Returns
        -------
        self : object
            This estimator.
        """
        self._set_params("teachers", **params)
        return self

    def _named_teachers(self):
        teachers = default_teachers() if self.teachers is None else self.teachers
        return list(teachers)

    def _named_input_estimators(self):
        return [
            (f"teacher {name!r}", estimator)
            for name, estimator in active_pairs(self._named_teachers())
        ]

    def _fit(self, X, y, sample_weight):
        named = self._named_teachers()
        check_named_estimators(self, named, "teachers")
        named = active_pairs(named)
        nan_refused_by = self._nan_refusers()
        X, y = validate_rows(self, X, y, reset=True, ensure_all_finite="allow-nan")
        refuse_nan(self, X, nan_refused_by)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=float, ensure_non_negative=True, copy=True
            )
            check_weighted_teachers(named)
        self.classes_, codes = encode_target(self, y)
        _check_frozen_teachers(named, self.classes_, X, self)
        rng = check_random_state(self.random_state)
        teachers = [seed_estimator(clone(estimator), rng) for _, estimator in named]
        cached_fit = check_memory(self.memory).cache(fit_teachers, ignore=["n_jobs"])
        # Resolved once: a generator of splits can be neither pickled for the
        # workers nor hashed for the memory, and would be used up by one teacher.
        cv = check_cv(self.cv, codes, classifier=True)
        args = (teachers, X, codes, self.classes_)
        kwargs = dict(
            cv=cv,
            n_jobs=self.n_jobs,
            feature_names=getattr(self, "feature_names_in_", None),
            sample_weight=sample_weight,
        )
        hit = cached_fit.check_call_in_cache(*args, **kwargs)
        self.teachers_, probas = cached_fit(*args, **kwargs)
        self.n_models_fitted_ = 0
        if not hit:
            self.n_models_fitted_ = sum(
                count_teacher_fits(teacher, fitted, cv, X, codes)
                for teacher, fitted in zip(teachers, self.teachers_)
            )
        self.teacher_names_ = [name for name, _ in named]
        self.named_teachers_ = Bunch(**dict(zip(self.teacher_names_, self.teachers_)))
        performance = teacher_performance(probas, codes, sample_weight)
        self.teacher_log_loss_ = -performance
        self.attention_features_ = ATTENTION_FEATURES
        self.attention_ = None
        # What predict uses, whatever set_params changes before a refit.
        self._weighting = self.weighting
        self._nan_refused_by = nan_refused_by

        if self.weighting == "attention":
            features = teacher_features(probas, performance)
            self.attention_ = fit_attention(
                features,
                probas,
                codes,
                l2=self.attention_l2,
                sample_weight=sample_weight,
            )
            weights = attention_weights(features, self.attention_)
        elif self.weighting == "camkd":
            weights = camkd_weights(probas, codes)
        elif self.weighting == "entropy":
            weights = entropy_weights(probas)
        else:
            weights = uniform_weights(probas)
        self.teacher_weights_ = np.average(weights, axis=0, weights=sample_weight)
        return fuse(probas, weights)

    def _teacher_probas(self, X):
        return stack_probas(
            [teacher_proba(teacher, X, self.classes_) for teacher in self.teachers_]
        )

    def _label_free_weights(self, probas):
        if self._weighting == "attention":
            features = teacher_features(probas, -self.teacher_log_loss_)
            return attention_weights(features, self.attention_)
        if self._weighting == "entropy":
            return entropy_weights(probas)
        n_teachers, n_samples, _ = probas.shape
        return np.broadcast_to(self.teacher_weights_, (n_samples, n_teachers))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the teachers and learn how to weight them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, given to every fit of every teacher
            (frozen teachers are not fitted) and weighting each row in
            ``teacher_log_loss_``, ``teacher_weights_`` and the attention's
            log-loss. The teachers' folds do not use them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X, y, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y, sample_weight=None):
        """Fit, and return the out-of-fold fused soft targets of ``X``.

        Each row's targets come from teachers that did not see that row;
        with ``weighting="camkd"`` they use the row's label.

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
            Fused probabilities at temperature 1, columns in ``classes_`` order.
        """
        return self._fit(X, y, sample_weight)

    def teacher_proba(self, X):
        """Each fitted teacher's probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        probas : ndarray of shape (n_teachers, n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = validate_rows(self, X, reset=False, ensure_all_finite="allow-nan")
        refuse_nan(self, X, self._nan_refused_by)
        return self._teacher_probas(X)

    def teacher_weights(self, X):
        """Label-free per-sample teacher weights used at predict time.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        weights : ndarray of shape (n_samples, n_teachers)
            Rows sum to one.
        """
        check_is_fitted(self)
        return np.array(self._label_free_weights(self.teacher_proba(X)))

    def predict_proba(self, X):
        """Fused class probabilities of the teachers.

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
        probas = self.teacher_proba(X)
        return fuse(probas, self._label_free_weights(probas))

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
