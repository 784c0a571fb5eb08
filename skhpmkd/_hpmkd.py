"""HPMKDClassifier: teachers, soft targets and student chosen by a budgeted search."""

import inspect
import os
import time
from numbers import Integral, Real

import joblib
import numpy as np
from sklearn.base import (
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
    is_classifier,
)
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv, train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_memory,
    validate_data,
)

from ._augment import (
    AUGMENT_METHODS,
    check_transfer_size,
    n_weighted,
    transfer_rows,
)
from ._base import SoftTargetOutputMixin, refuse_nan
from ._distiller import default_teacher, encode_target
from ._frames import declared_codes, with_feature_names
from ._memory import (
    load_records,
    nearest_configs,
    nearest_existing_folder,
    save_records,
    scoring_name,
    unsearched_students,
)
from ._meta_features import meta_features
from ._multi_teacher import (
    AttentionMultiTeacherClassifier,
    active_pairs,
    check_named_estimators,
)
from ._parallel import one_thread
from ._sample_weight import with_transfer_weights
from ._search import (
    ALPHAS,
    FAMILIES,
    TEMPERATURES,
    ConfigSearch,
    SearchSpace,
    bound_excess,
    config_seed,
    default_families,
    default_log,
    deployment_cost,
    describe,
    family_student,
    fit_config,
    installed_families,
    unmet_bounds,
)
from ._size import model_size
from ._soft_targets import (
    _route,
    aligned_proba,
    check_weighted_student,
    student_labels,
)
from ._teachers import (
    PrecomputedTeacher,
    check_weighted_teacher,
    count_teacher_fits,
    fit_teacher,
    seed_estimator,
    teacher_proba,
)
from ._validation import HasFitAndProba, has_predict_proba, is_frozen
from .metrics import kl_divergence, top1_agreement

_AUTO_TRANSFER_ROWS = 10_000
_MAX_AUTO_AUGMENT = 5.0
_MIN_AUTO_AUGMENT = 0.5
_WARM_START_DISTANCE = 0.05
_WARM_START_CONFIGS = 2
_RESULT_COLUMNS = (
    "accuracy",
    "log_loss",
    "score",
    "agreement",
    "kl",
    "fit_time",
    "size",
    "latency",
    "n_rows",
    "n_rounds",
    "resource",
    "rung",
)


def auto_augment_factor(n_rows):
    """Transfer-set size of ``augment="auto"``, as a multiple of ``n_rows``.

    About 10,000 rows, at most five times and at least half the training rows.

    Examples
    --------
    >>> from skhpmkd._hpmkd import auto_augment_factor
    >>> [auto_augment_factor(n) for n in (500, 4_000, 50_000)]
    [5.0, 2.5, 0.5]
    """
    factor = _AUTO_TRANSFER_ROWS / max(n_rows, 1)
    return float(np.clip(factor, _MIN_AUTO_AUGMENT, _MAX_AUTO_AUGMENT))


def _fit_teacher_targets(
    teacher,
    X,
    y,
    classes,
    cv,
    n_jobs,
    feature_names,
    fused_jobs=None,
    sample_weight=None,
):
    """Module-level, so that ``joblib.Memory`` can cache it across fits.

    ``n_jobs`` and ``fused_jobs`` are not part of the cache key, so the fused
    teachers that HPMKDClassifier builds from a list get their ``n_jobs``
    (``fused_jobs``) here rather than as a parameter of the hashed ``teacher``.
    The row weights are part of it.
    """
    if fused_jobs is not None:
        teacher = teacher.set_params(n_jobs=fused_jobs)
    return fit_teacher(
        teacher,
        X,
        y,
        classes,
        cv=cv,
        n_jobs=n_jobs,
        feature_names=feature_names,
        sample_weight=sample_weight,
    )


def _scorer_takes_sample_weight(scorer):
    """Whether ``scorer`` can score with ``sample_weight``.

    A scikit-learn scorer takes it in ``__call__`` and hands it to its
    metric, so the metric must take it.
    """
    func = getattr(scorer, "_score_func", scorer)
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return True  # a builtin without a signature: let it answer itself
    return any(
        parameter.name == "sample_weight" or parameter.kind is parameter.VAR_KEYWORD
        for parameter in parameters
    )


def _student_models(students):
    """The named candidate ``students`` as models: a built-in family (``None``)
    at its smallest size, any other as given."""
    return [
        (name, family_student(name, 0) if estimator is None else estimator)
        for name, estimator in students
    ]


def _plain_number(value):
    return int(value) if isinstance(value, Integral) else float(value)


def _memory_name(estimator):
    """A student's class name and a digest of its parameters."""
    params = _parameters(estimator)
    try:
        digest = joblib.hash(params)
    except Exception:  # joblib.hash pickles; a lambda among the params refuses
        # Its text holds the lambda's address: another fit's student is
        # another student to the memory, which then only misses it.
        digest = joblib.hash(repr(params))
    return f"{type(estimator).__name__}:{digest}"


def _parameters(value):
    """``value`` with every estimator in it replaced by its class and
    parameters: what the estimator is, not its fitted state or the version
    of scikit-learn that pickles it."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        return (type(value), {key: _parameters(params[key]) for key in sorted(params)})
    if isinstance(value, (list, tuple)):
        return type(value)(_parameters(part) for part in value)
    if isinstance(value, dict):
        return {key: _parameters(part) for key, part in value.items()}
    return value


def _is_named_list(teachers):
    return isinstance(teachers, list) and all(
        isinstance(item, tuple) and len(item) == 2 for item in teachers
    )


class HPMKDClassifier(
    SoftTargetOutputMixin,
    ClassifierMixin,
    TransformerMixin,
    MetaEstimatorMixin,
    _BaseComposition,
):
    """Distil teachers into a small student chosen by an adaptive search.

    The teachers' out-of-fold probabilities on the training rows are computed
    once and shared by every configuration the search tries; a transfer set
    of rows interpolated between neighbouring training rows, labelled by the
    teacher, adds rows the student learns the teacher's function on. The
    search runs over student family x size x temperature x alpha (temperature
    is skipped in binary tasks, where it only rescales logits): successive
    halving on nested, stratified subsets of the rows (and fewer boosting
    rounds), then a Gaussian-process surrogate proposing full-data
    configurations by expected improvement until the best stops
    improving. Configurations are scored on a stratified held-out part of the
    training rows; the winner is refitted on all of them.

    Parameters
    ----------
    teachers : classifier or list of (str, classifier) tuples, default=None
        One teacher, or named teachers fused per sample by
        :class:`AttentionMultiTeacherClassifier` (a teacher given as
        ``"drop"`` is left out). Unfitted teachers are fitted on clones;
        pre-fitted ones are passed in :class:`~sklearn.frozen.FrozenEstimator`.
        ``None`` means ``HistGradientBoostingClassifier()``. Named teachers
        and their parameters are set and searched as ``<name>`` and
        ``<name>__<param>``, as in :class:`~sklearn.ensemble.VotingClassifier`.
    students : list of str or classifiers, default=None
        Candidate students: built-in family names (``"lr"``, ``"dt"``,
        ``"rf"``, ``"hgb"``, ``"xgboost"``, ``"lightgbm"``, ``"mlp"``), each
        searched over four sizes, or unfitted classifiers used at their own
        size (the search trains them; a pre-fitted model can be the teacher,
        not a student). ``None`` means ``["lr", "dt", "xgboost"]``, with ``"lightgbm"`` (or
        else ``"hgb"``) in place of ``"xgboost"`` when XGBoost is not
        installed: small models that predict fast.
    budget : float, default=10
        Full-data student fits the search may spend, the final refit
        included; a fit on a share of the rows counts as that share. Every
        student gets a look: when the budget cannot carry one configuration
        of each through successive halving, each is scored on the smallest
        row subset (all the rows when they are too few to subset) and only
        the best on all the rows, so a very small budget can be exceeded
        (``search_cost_`` says by how much); so can any budget when a
        student is over ``max_student_size`` or ``max_latency`` at every size
        the search first scores, and is scored again at its smallest size.
        With ``use_chain=True`` the chain's fits come on top of the budget
        (``search_cost_`` and ``n_student_fits_`` count them).
    scoring : str, callable or None, default=None
        What "best" means on the held-out rows: ``None`` is accuracy, any
        other value a scikit-learn scorer. Ties go to the lower log-loss.
    max_student_size : int or float, default=None
        Largest deployable student, in tree nodes plus coefficients
        (:func:`~skhpmkd.metrics.model_size`, measured on the fitted model);
        larger configurations lose to any that fits, and a student too large
        at every size halving tried is also scored at its smallest size. A
        float in ``(0, 1)`` is a share of the fitted teacher's size: ``0.1``
        asks for a student at least ten times smaller than the teacher (all
        of the fused teachers).
        The refitted student is measured again: when the refit on every
        training row grows past the bound, the next best configuration within
        it is refitted instead (one size smaller when none is left), and those
        refits count in ``n_student_fits_`` and ``search_cost_``.
    max_latency : float, default=None
        Largest ``predict_proba`` time in seconds per 1,000 rows, measured on
        the held-out rows with one thread, one student at a time (not beside
        the search's parallel fits, so ``n_jobs`` does not change it); slower
        configurations lose to any that meets it. As for
        ``max_student_size``, the refitted student is measured again and
        replaced by the next best within the bound when it is slower.
    use_chain : bool, default=False
        Fit the winning configuration's student through a
        :class:`ProgressiveChainClassifier` with ``steps="auto"``: assistants
        of the student's family, between it and the teacher, are inserted
        while the out-of-fold fidelity gap between neighbours is large and
        the student's agreement with the teacher improves. The chain starts
        from this fit's out-of-fold teacher targets and learns from the
        training rows only (no transfer set), at the winning temperature held
        constant over the boosting rounds (the chain has no schedule). Its
        fits come on top of ``budget``.
    use_multi_teacher : bool, default=True
        Fuse several teachers per sample; when ``False`` only the first of
        several teachers is used.
    use_temperature_schedule : bool, default=True
        Anneal the temperature of XGBoost and LightGBM students along a
        cosine from the searched temperature to 1 over the boosting rounds;
        when ``False`` it stays constant. A student refitted through the chain
        (``use_chain=True``) keeps its temperature constant either way.
    augment : float or "auto", default="auto"
        Size of the transfer set as a multiple of the training rows.
        ``"auto"`` adds about 10,000 rows, at most five times and at least
        half the training rows; ``0`` adds none.
    augment_method : {"interpolate", "munge"}, default="interpolate"
        How the transfer rows are made: on the segment between a training row
        and one of its 5 nearest neighbours (category-like columns take one
        of the two values), or by MUNGE perturbation.
    cv : int, cross-validation generator or iterable, default=5
        Splitter for the teachers' out-of-fold probabilities (a bagged forest
        teacher uses its out-of-bag probabilities instead).
    validation_fraction : float, default=0.2
        Share of the training rows held out to score configurations. They are
        drawn class by class in the order of the sorted labels, so renaming
        the classes into another order holds out other rows (see the user
        guide).
    patience : int, default=3
        Surrogate proposals without improvement before the search stops.
    warm_start_memory : str or path-like, default=None
        JSON file of (dataset meta-features, configuration, score) records.
        Its best configurations for the most similar earlier dataset seed the
        search when its meta-features are close enough (see the user guide;
        ``warm_started_`` tells), with a first look at each student the
        remembered searches it starts from did not have, as far as the
        budget goes (a
        student neither looked at nor remembered is not recorded as
        searched); the search's full-data
        results are appended, atomically (fits that save at once take turns
        through ``<file>.lock``). Records made with another ``scoring``, or
        another ``max_student_size`` or ``max_latency``, are not used (a
        callable scorer is known by its name, a lambda or local function by
        its code and closure too, and a bound method or scorer object by a
        hash of its object too; a student that is not a family name, by its
        class name and a digest of its parameters). It is read with
        :mod:`json`, never unpickled.
    update_memory : bool, default=True
        Whether the search appends its results to ``warm_start_memory``.
        ``False`` only reads it, for instance a shared memory in a folder the
        search may not write; a missing file is then a cold start.
    memory : str, joblib.Memory or None, default=None
        Caches the teachers' fit and out-of-fold probabilities across fits,
        as :class:`~sklearn.pipeline.Pipeline` does with its transformers;
        it hits only when the teachers' seeds are fixed: with ``random_state``
        set, or with every teacher's own ``random_state`` set.
    n_jobs : int, default=None
        Number of teacher and student fits run in parallel.
    random_state : int, RandomState instance or None, default=None
        Seeds the teachers, the split, the transfer set and every student.
    verbose : int, default=0
        ``1`` prints one line per stage of the search to standard error.

    Attributes
    ----------
    student_ : classifier
        The deployable student, fitted on all training rows; a plain
        estimator (for instance an ``XGBClassifier``, a pipeline ending in a
        ``LogisticRegression``, or a :class:`~skhpmkd._students.SoftTargetClassifier`).
        It predicts the original labels, except an XGBoost student (bare or
        ending a pipeline), which predicts their codes ``0..n_classes-1``. A
        LightGBM student comes in a
        :class:`~skhpmkd._students.MarginClassifier` around its fitted
        booster, which ``clone`` cannot refit: cross-validate the distiller,
        not its ``student_``.
        An XGBoost or LightGBM student given a column name it refuses
        (``[``, ``]`` or ``<`` for XGBoost, JSON characters for LightGBM) is
        fitted on the bare array and has no ``feature_names_in_``.
    teacher_ : classifier
        The teacher (or the fused teachers) fitted on all training rows.
        Unless frozen, it was fitted on the class codes
        ``0..n_classes-1``, not the labels: its ``predict`` returns codes
        (``classes_[code]`` is the label).
    max_student_size_ : int or None
        The size bound the search applied, in nodes plus coefficients: a
        float ``max_student_size`` times the teacher's size, rounded down.
    chain_ : ProgressiveChainClassifier or None
        With ``use_chain``, the fitted chain whose last step is ``student_``.
    best_params_ : dict
        ``student``, ``size``, ``temperature`` and ``alpha`` of the deployed
        student: the winner, or the best that stays within ``max_student_size``
        when refitted.
    best_score_ : float
        Its score on the held-out rows. They are kept from the students'
        fits, not from the teachers' (see the user guide), so it is
        optimistic: judge the student on rows the fit never saw.
    search_results_ : dict of ndarray
        One entry per fit of the search, like ``cv_results_``: ``params``,
        ``param_student``, ``param_size``, ``param_temperature``,
        ``param_alpha``, ``stage`` (``"warm_start"``, ``"halving"``,
        ``"surrogate"``), ``rung`` (fidelity level), ``resource`` (share of
        rows), ``n_rows``, ``n_rounds``, ``score``, ``accuracy``,
        ``log_loss``, ``agreement`` and ``kl`` (fidelity to the teacher on
        the held-out rows; with ``sample_weight`` the score, accuracy and
        log-loss are weighted, the fidelity is not), ``size`` (-1 when
        unknown and unbounded),
        ``latency`` (NaN without ``max_latency``), ``fit_time`` and
        ``feasible`` (within the bounds).
    fidelity_ : dict
        ``agreement`` (top-1) and ``kl`` (mean ``KL(teacher || student)``)
        between the teacher's out-of-fold probabilities and the student on
        the training rows, unweighted.
    n_models_fitted_ : int
        Every model fitted: ``n_teacher_fits_ + n_student_fits_``.
    n_teacher_fits_ : int
        Teacher fits (folds and final fits; 0 when cached or frozen): for an
        skhpmkd estimator as teacher, its ``n_models_fitted_``, every model
        fitted inside it.
    n_student_fits_ : int
        Student fits of the search plus the final refits (one, unless a refit
        grew past ``max_student_size``; with ``use_chain``, every fit of the
        chain's steps and assistant trials).
    search_cost_ : float
        Full-data-equivalent student fits spent, the final refit included.
    meta_features_ : dict
        Meta-features of the task, as stored in ``warm_start_memory``.
    warm_started_ : bool
        Whether remembered configurations seeded the search.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    TemperatureScheduledDistiller : One teacher into one given student.
    AttentionMultiTeacherClassifier : Fuses several teachers per sample.
    ProgressiveChainClassifier : Distils through assistants of decreasing size.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skhpmkd import HPMKDClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> hpmkd = HPMKDClassifier(
    ...     RandomForestClassifier(n_estimators=50, random_state=0),
    ...     students=["dt", "lr"],
    ...     budget=4,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> sorted(hpmkd.best_params_)
    ['alpha', 'size', 'student', 'temperature']
    >>> bool(hpmkd.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "teachers": [None, list, HasFitAndProba()],
        "students": [None, list],
        "budget": [Interval(Real, 1, None, closed="left")],
        "scoring": [None, StrOptions(set(get_scorer_names())), callable],
        "max_student_size": [
            None,
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "max_latency": [None, Interval(Real, 0, None, closed="neither")],
        "use_chain": ["boolean"],
        "use_multi_teacher": ["boolean"],
        "use_temperature_schedule": ["boolean"],
        "augment": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "augment_method": [StrOptions(set(AUGMENT_METHODS))],
        "cv": ["cv_object"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "warm_start_memory": [None, str, os.PathLike],
        "update_memory": ["boolean"],
        "memory": [None, str, HasMethods(["cache"])],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        teachers=None,
        *,
        students=None,
        budget=10,
        scoring=None,
        max_student_size=None,
        max_latency=None,
        use_chain=False,
        use_multi_teacher=True,
        use_temperature_schedule=True,
        augment="auto",
        augment_method="interpolate",
        cv=5,
        validation_fraction=0.2,
        patience=3,
        warm_start_memory=None,
        update_memory=True,
        memory=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.teachers = teachers
        self.students = students
        self.budget = budget
        self.scoring = scoring
        self.max_student_size = max_student_size
        self.max_latency = max_latency
        self.use_chain = use_chain
        self.use_multi_teacher = use_multi_teacher
        self.use_temperature_schedule = use_temperature_schedule
        self.augment = augment
        self.augment_method = augment_method
        self.cv = cv
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.warm_start_memory = warm_start_memory
        self.update_memory = update_memory
        self.memory = memory
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def get_params(self, deep=True):
        """Parameters of this estimator and, with ``deep``, of its teachers.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the teacher as ``teachers__<param>``,
            or of named teachers by name as ``<name>__<param>``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        if _is_named_list(self.teachers):
            return self._get_params("teachers", deep=deep)
        # A single teacher may be iterable (a fitted ensemble): not a list of
        # named teachers.
        return super().get_params(deep=deep)

    def set_params(self, **params):
        """Set parameters, including a named teacher or its parameters.

        Parameters
        ----------
        **params : keyword arguments
            ``teachers``, a teacher name, ``<name>__<param>``,
            ``teachers__<param>`` for a single teacher, or any constructor
            argument.

        Returns
        -------
        self : object
            This estimator.
        """
        self._set_params("teachers", **params)
        return self

    def _teacher(self, cv=None):
        """The teacher to fit: one classifier, or the fused named teachers.

        ``cv`` is the fit's splitter, for the fused teachers.
        """
        teachers = self.teachers
        if teachers is None:
            return default_teacher()
        if not isinstance(teachers, list):
            return teachers
        if not teachers or not _is_named_list(teachers):
            raise ValueError(
                "teachers must be a classifier or a non-empty list of (name, "
                f"classifier) tuples; got {teachers!r}."
            )
        # As a composition, its teachers' names must not be its own
        # parameters' (``set_params`` could not tell them apart).
        check_named_estimators(self, teachers, "teachers")
        active = active_pairs(teachers)
        if len(active) == 1 or not self.use_multi_teacher:
            return active[0][1]
        # Its n_jobs is set when it is fitted (see _fit_teacher_targets).
        return AttentionMultiTeacherClassifier(
            teachers, cv=self.cv if cv is None else cv
        )

    def _students(self):
        """Named candidate students: ``(name, None)`` for built-in families."""
        if self.students is None:
            return [(family, None) for family in default_families()]
        if not self.students:
            raise ValueError("students must be a non-empty list or None; got [].")
        installed = installed_families()
        named, seen = [], {}
        for student in self.students:
            if isinstance(student, str):
                if student not in FAMILIES:
                    family_student(student, 0)  # raises: unknown family
                if student not in installed:
                    raise ValueError(
                        f"The student family {student!r} needs a library that is "
                        f"not installed; the installed families are {installed}."
                    )
                if student in seen:
                    raise ValueError(
                        f"students lists the family {student!r} twice; list each "
                        "family once (the search tries its sizes)."
                    )
                name, estimator = student, None
            elif (
                hasattr(student, "fit")
                and not isinstance(student, type)
                and is_classifier(student)
                and has_predict_proba(student)
            ):
                if is_frozen(student):
                    raise ValueError(
                        "Every student must be an unfitted classifier: the search "
                        "trains it on the teacher's soft targets; got "
                        f"{student!r} (a pre-fitted model can be the teacher)."
                    )
                name, estimator = type(student).__name__, student
            else:
                raise ValueError(
                    "Every student must be a family name or a classifier with "
                    f"predict_proba; got {student!r}."
                )
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name}_{seen[name]}"
            named.append((name, estimator))
        return named

    def _named_input_estimators(self):
        named = [("teacher", self._teacher())]
        for name, student in _student_models(self._students()):
            named.append((f"student {name!r}", student))
        return named

    def _log(self, message):
        if self.verbose:
            default_log(message)

    def _augment_factor(self, n_rows):
        if self.augment == "auto":
            return auto_augment_factor(n_rows)
        return float(self.augment)

    def _transfer(self, X, factor, rng, sample_weight=None, codes=None):
        """Transfer rows near ``X``, labelled by the fitted teacher.

        With ``sample_weight``, new rows start from rows drawn in proportion
        to the weights; the columns of ``codes`` are kept as codes.
        """
        X_new = transfer_rows(
            X,
            factor,
            self.augment_method,
            random_state=rng,
            sample_weight=sample_weight,
            codes=codes,
        )
        if not len(X_new):
            return X_new, np.empty((0, len(self.classes_)))
        return X_new, teacher_proba(self.teacher_, X_new, self.classes_)

    def _seeded_teacher(self, cv, rng):
        """The teacher to fit: ``teachers`` as given, and a clone with its seeds.

        Its seeds are drawn from ``rng`` before the split's, as the rest of
        the fit expects.
        """
        chosen = self._teacher(cv)
        teacher = seed_estimator(clone(chosen), rng)
        if isinstance(chosen, AttentionMultiTeacherClassifier) and (
            chosen.random_state is None
        ):
            # Its own seed only seeds its teachers' unset seeds, and they all
            # have one now: left unset, it keeps the memory's cache key to the
            # teachers' seeds, so teachers with seeds of their own hit it.
            teacher.set_params(random_state=None)
        return chosen, teacher

    def _fit_teacher(self, chosen, teacher, X, codes, cv, sample_weight):
        memory = check_memory(self.memory)
        cached = memory.cache(_fit_teacher_targets, ignore=["n_jobs", "fused_jobs"])
        names = getattr(self, "feature_names_in_", None)
        # A fused teacher built here from the list, not one the user gave.
        built = isinstance(self.teachers, list) and all(
            chosen is not estimator for _, estimator in self.teachers
        )
        fused_jobs = self.n_jobs if built and self.n_jobs is not None else None
        args = (
            teacher,
            X,
            codes,
            self.classes_,
            cv,
            self.n_jobs,
            names,
            fused_jobs,
            sample_weight,
        )
        hit = memory.location is not None and cached.check_call_in_cache(*args)
        start = time.perf_counter()
        self.teacher_, targets = cached(*args)
        self.n_teacher_fits_ = (
            0 if hit else count_teacher_fits(teacher, self.teacher_, cv, X, codes)
        )
        self._log(
            f"teacher {type(teacher).__name__}: {self.n_teacher_fits_} fits in "
            f"{time.perf_counter() - start:.1f} s, out-of-fold accuracy "
            f"{np.mean(np.argmax(targets, axis=1) == codes):.4f}"
            + (" (cached)" if hit else "")
        )
        return targets

    def _check_weighted_models(self):
        """Refuse, before any fit, a model that could not use the row weights.

        The teacher and every candidate student are fitted with them, and the
        scorer scores the held-out rows with them.
        """
        teacher, *students = self._input_estimators()
        check_weighted_teacher(teacher)
        for student in students:
            check_weighted_student(student)
        if self.scoring is not None and not _scorer_takes_sample_weight(
            check_scoring(self, self.scoring)
        ):
            raise ValueError(
                f"sample_weight was given, but scoring={self.scoring!r} takes "
                "no sample_weight, so the search could not weight its "
                "held-out rows; give a scoring whose metric takes it."
            )

    @staticmethod
    def _split_weights(sample_weight, fit_rows, val_rows):
        """The weights of the search's fit and held-out rows, each with some weight."""
        for part, rows in (("fit", fit_rows), ("held-out", val_rows)):
            if not sample_weight[rows].sum() > 0:
                raise ValueError(
                    f"Every one of the search's {len(rows)} {part} rows has "
                    "sample_weight 0, so it cannot fit or score the students; "
                    "give more rows a positive weight, or change "
                    "validation_fraction or random_state."
                )
        return sample_weight[fit_rows], sample_weight[val_rows]

    def _split(self, codes, rng):
        """Stratified fit/validation split of the training rows."""
        rows = np.arange(len(codes))
        counts = np.bincount(codes)
        n_val = max(len(counts), int(round(self.validation_fraction * len(codes))))
        if n_val >= len(codes):
            raise ValueError(
                f"validation_fraction={self.validation_fraction} holds out {n_val} of "
                f"the {len(codes)} training rows (at least one per class), leaving "
                "none to fit the students on; give more rows or a smaller "
                "validation_fraction."
            )
        stratify = (
            codes if counts.min() >= 2 and len(codes) - n_val >= len(counts) else None
        )
        return train_test_split(
            rows,
            test_size=n_val,
            random_state=rng.randint(np.iinfo(np.int32).max),
            stratify=stratify,
        )

    def _check_rows_for_boosting(self, space, n_fit, n_transfer, n_train):
        """Refuse a search whose fit rows are fewer than the classes when a
        student is boosted: XGBoost and LightGBM need a row of every class."""
        n_classes = len(self.classes_)
        if n_fit + n_transfer >= n_classes:
            return
        boosted = [
            name
            for name, student in _student_models(space.students)
            if _route(student) == "boosted"
        ]
        if boosted:
            raise ValueError(
                f"The search fits the students on {n_fit} of the {n_train} "
                f"training rows (validation_fraction={self.validation_fraction} "
                f"holds out the other {n_train - n_fit}, at least one of each "
                f"class) and {n_transfer} transfer rows, fewer than the "
                f"{n_classes} classes; the boosted students {boosted} need a row "
                "of every class. Give more training rows, or students without "
                "boosting."
            )

    def _space(self, n_classes):
        temperatures = TEMPERATURES if n_classes > 2 else (1.0,)
        return SearchSpace(self._students(), temperatures, ALPHAS)

    def _read_memory(self):
        """The records of ``warm_start_memory`` (None without one), once the
        search is known to be able to read it and, unless
        ``update_memory=False``, to append to it."""
        if self.warm_start_memory is None:
            return None
        path = os.fspath(self.warm_start_memory)
        if not path or os.path.isdir(path):
            raise ValueError(
                f"warm_start_memory must be the path of a file; got {path!r}"
                + (", a directory." if path else ".")
            )
        real = os.path.realpath(path)
        if os.path.exists(real) and not os.access(real, os.R_OK):
            raise ValueError(f"warm_start_memory {path!r} cannot be read.")
        if self.update_memory:
            # The search appends to the file when it ends, through a temporary
            # file and a lock in its folder (or the folder it will create):
            # say now if it cannot.
            folder = nearest_existing_folder(real)
            if not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
                raise ValueError(
                    f"warm_start_memory {path!r} cannot be written: the search "
                    f"reads it and appends its results through a temporary file "
                    f"and a lock in {folder!r}, which must be a folder it may "
                    f"write (or set update_memory=False to only read it)."
                )
            for file, what in ((real, "it is"), (f"{real}.lock", "its lock is")):
                if os.path.exists(file) and not os.access(file, os.W_OK):
                    raise ValueError(
                        f"warm_start_memory {path!r} cannot be written: {what} "
                        f"a file this user may not write, {file!r}; set "
                        "update_memory=False to only read it."
                    )
        return load_records(path)

    def _memory_bounds(self):
        """The bounds the search's results are remembered under, as given
        (as plain numbers: JSON does not take NumPy's)."""
        return {
            name: value if value is None else _plain_number(value)
            for name, value in (
                ("max_student_size", self.max_student_size),
                ("max_latency", self.max_latency),
            )
        }

    def _memory_names(self):
        """Each student's name in the memory, by its name in the search.

        A family is remembered by its name; another student by its class
        name and a digest of its parameters, so that two trees of other
        depths are two students, whatever their order in ``students``.
        """
        return {
            name: name if estimator is None else _memory_name(estimator)
            for name, estimator in self._students()
        }

    @staticmethod
    def _from_memory(record, names):
        """``record`` with this search's ``names`` (by memory name) for the
        students it names; students this search does not have are dropped."""
        renamed = dict(record)
        config = record["config"]
        renamed["config"] = {**config, "student": names.get(config["student"], "")}
        if "students" in record:
            renamed["students"] = [
                names[key] for key in record["students"] if key in names
            ]
        return renamed

    def _memory_scoring(self, weighted):
        """The name the search's scores are remembered under.

        Scores of weighted held-out rows are another scoring, remembered as,
        for instance, ``"accuracy (weighted)"``.
        """
        name = scoring_name(self.scoring)
        return f"{name} (weighted)" if weighted else name

    def _warm_configs(self, space, records, weighted):
        """Configurations to start from, and the students memory covers.

        Returns the warm configurations (none for a cold start) and the
        students the remembered searches ``records`` had.
        """
        if records is None:
            return [], []
        names = {key: name for name, key in self._memory_names().items()}
        records = [self._from_memory(record, names) for record in records]
        similar = dict(
            max_distance=_WARM_START_DISTANCE,
            n_configs=_WARM_START_CONFIGS,
            accept=space.accept,
            scoring=self._memory_scoring(weighted),
            bounds=self._memory_bounds(),
        )
        warm = nearest_configs(records, self.meta_features_, **similar)
        if not warm:
            return [], []
        # Students the remembered searches did not have get a look of their
        # own, after the best remembered configuration.
        unsearched = unsearched_students(
            records, self.meta_features_, space.names, **similar
        )
        covered = [name for name in space.names if name not in unsearched]
        return (
            warm[:1] + [space.center(name) for name in unsearched] + warm[1:],
            covered,
        )

    def _size_bound(self):
        """``max_student_size`` in nodes; a float is a share of the teacher's size."""
        bound = self.max_student_size
        if bound is None or isinstance(bound, Integral):
            return bound
        try:
            teacher_size = model_size(self.teacher_)
        except ValueError as exc:
            raise ValueError(
                f"max_student_size={bound!r} is a share of the teacher's size, "
                f"which cannot be measured: {exc} Pass the bound as an int "
                "number of nodes instead."
            ) from exc
        return max(1, int(bound * teacher_size))

    def _settings(self):
        scorer = None if self.scoring is None else check_scoring(self, self.scoring)
        return {
            "scorer": scorer,
            "scoring": self.scoring,
            "schedule": self.use_temperature_schedule,
            "size_of": model_size,
            "max_size": self.max_student_size_,
            "max_latency": self.max_latency,
            "feature_names": getattr(self, "feature_names_in_", None),
        }

    def _prepare(self, X, y, sample_weight=None):
        """Validate, split, fit the teacher, draw the transfer set; set up the search.

        Returns the search (not yet run), the students its memory covers and
        what the refit needs.
        """
        # What predict uses, whatever set_params changes before a refit.
        self._nan_refused_by = self._nan_refusers()
        codes_declared = declared_codes(X)
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        refuse_nan(self, X, self._nan_refused_by)
        self.classes_, codes = encode_target(self, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=float, ensure_non_negative=True, copy=True
            )
        # Mistakes in the students, the weights or the memory are reported
        # before the teacher's fit, not after it.
        space = self._space(len(self.classes_))
        if sample_weight is not None:
            self._check_weighted_models()
        records = self._read_memory()
        X = np.asarray(X, dtype=float)
        rng = check_random_state(self.random_state)
        # Resolved once: a one-shot iterable of splits serves every use.
        cv = check_cv(self.cv, codes, classifier=True)
        chosen, teacher = self._seeded_teacher(cv, rng)
        # Split before the teacher's fit, so that a split no weights can fit
        # or score is refused first; the draws are the same either way.
        fit_rows, val_rows = self._split(codes, rng)
        w_fit = w_val = None
        if sample_weight is not None:
            w_fit, w_val = self._split_weights(sample_weight, fit_rows, val_rows)
        # The refit's transfer set, drawn around every training row, is the
        # larger one; refused before the teacher's fit when it cannot fit.
        factor = self._augment_factor(n_weighted(len(fit_rows), w_fit))
        check_transfer_size(
            n_weighted(len(X), sample_weight), X.shape[1], len(self.classes_), factor
        )
        targets = self._fit_teacher(chosen, teacher, X, codes, cv, sample_weight)
        self.max_student_size_ = self._size_bound()
        self.meta_features_ = meta_features(X, codes, targets)

        X_transfer, transfer_targets = self._transfer(
            X[fit_rows], factor, rng, w_fit, codes_declared
        )
        self._check_rows_for_boosting(space, len(fit_rows), len(X_transfer), len(codes))
        if w_fit is not None:
            w_fit = with_transfer_weights(w_fit, len(X_transfer))
        data = {
            "X_fit": np.vstack([X[fit_rows], X_transfer]),
            "targets": np.vstack([targets[fit_rows], transfer_targets]),
            "y_fit": np.concatenate([codes[fit_rows], np.full(len(X_transfer), -1)]),
            "n_train": len(fit_rows),
            "X_val": X[val_rows],
            "y_val": codes[val_rows],
            "val_targets": targets[val_rows],
            "classes": self.classes_,
            "w_fit": w_fit,
            "w_val": w_val,
        }
        warm, covered = self._warm_configs(space, records, sample_weight is not None)
        self.warm_started_ = bool(warm)
        if warm:
            self._log(f"warm start from memory: {', '.join(map(describe, warm))}")
        search = ConfigSearch(
            space,
            data,
            self._settings(),
            budget=self.budget,
            patience=self.patience,
            warm_configs=warm,
            n_jobs=self.n_jobs,
            random_state=rng,
            log=default_log if self.verbose else None,
        )
        prepared = (X, codes, targets, factor, rng, cv, sample_weight, codes_declared)
        return search, covered, prepared

    def _fit(self, X, y, sample_weight):
        start = time.perf_counter()
        search, covered, prepared = self._prepare(X, y, sample_weight)
        X, codes, targets, factor, rng, cv, sample_weight, codes_declared = prepared
        records = search.run()

        # The winner is refitted on every training row with its own seed, and
        # a transfer set drawn around all of them.
        refit_start = time.perf_counter()
        X_transfer, transfer_targets = self._transfer(
            X, factor, rng, sample_weight, codes_declared
        )
        refit_data = (
            X,
            codes,
            targets,
            X_transfer,
            transfer_targets,
            rng,
            cv,
            sample_weight,
        )
        best, n_refits = self._refit_within_bound(search, refit_data)
        self.best_params_ = dict(best["config"])
        self.best_score_ = best["score"]
        self.search_results_ = self._results_table(records)
        self.n_student_fits_ = len(records) + n_refits
        self.n_models_fitted_ = self.n_teacher_fits_ + self.n_student_fits_
        self.search_cost_ = float(search.spent + n_refits)
        student_proba = self._student_proba(X)
        self.fidelity_ = {
            "agreement": top1_agreement(targets, student_proba),
            "kl": kl_divergence(targets, student_proba),
        }
        self._log(
            f"refit {describe(best['config'])} on {len(X) + len(X_transfer)} rows in "
            f"{time.perf_counter() - refit_start:.1f} s; {self.n_models_fitted_} models "
            f"fitted in {time.perf_counter() - start:.1f} s"
        )
        if self.warm_start_memory is not None and self.update_memory:
            # The students this search fitted or started from a memory of: a
            # small budget can end a warm start before it looks at a student
            # that no remembered search had.
            # A student counts as searched when one of its results kept to
            # the bounds: one that broke them all may do better without them.
            seen = {
                record["config"]["student"] for record in records if record["feasible"]
            } | set(covered)
            self._remember(
                records,
                [name for name in search.space.names if name in seen],
                sample_weight is not None,
            )
        return targets

    def _refit_within_bound(self, search, refit_data):
        """Refit the search's winner on every training row, within the bounds.

        The search measures sizes and latencies on its fit rows; on every
        training row and a larger transfer set a student can grow past
        ``max_student_size_`` or ``max_latency`` (fuller boosted trees). The
        next best configuration the search found within the bounds is then
        refitted instead; when none stays within, one size smaller of each is
        scored and refitted, down to the smallest. Sets ``student_`` and
        ``chain_``; returns the record of the deployed configuration and the
        number of student fits the refits took.
        """
        settings = search.settings
        queue = search.ranked()
        n_refits, tried, measured = 0, [], []
        while queue:
            record = queue.pop(0)
            if record["config"] in tried:
                continue
            tried.append(record["config"])
            student, chain, n_fits = self._refit(search, record["config"], *refit_data)
            n_refits += n_fits
            if settings["max_size"] is None and settings["max_latency"] is None:
                break
            # Measured with one thread, as the search measured it.
            measured.append(deployment_cost(student, search.data["X_val"], settings))
            excess = bound_excess(*measured[-1], settings)
            if not excess:
                break
            self._log(
                f"refit {describe(record['config'])} has {' and '.join(excess)} "
                "on all rows; refitting the next best"
            )
            if not queue:
                queue = search.smaller(tried) or search.smallest(tried)
        else:
            names, bounds, best = unmet_bounds(*zip(*measured), settings)
            raise ValueError(
                f"No candidate student meets {' and '.join(bounds)} when refitted "
                f"on all training rows: of the {len(tried)} refitted "
                f"configurations, {'; '.join(best)}. Loosen {' or '.join(names)}."
            )
        self.student_, self.chain_ = student, chain
        return record, n_refits

    def _refit(
        self,
        search,
        config,
        X,
        codes,
        targets,
        X_transfer,
        transfer_targets,
        rng,
        cv,
        sample_weight,
    ):
        """Fit ``config``'s student on every training row (and the transfer set).

        Returns the student, the chain it ends (with ``use_chain``, else
        ``None``) and the number of student fits.
        """
        student = search.space.build(config)
        seed_estimator(
            student, np.random.RandomState(config_seed(search.base_seed_, config))
        )
        if self.use_chain:
            chain = self._fit_chain(
                student, config, X, codes, targets, cv, rng, sample_weight
            )
            return (
                chain.student_,
                chain,
                chain.n_models_fitted_,
            )
        with one_thread():
            student = fit_config(
                student,
                np.vstack([X, X_transfer]),
                np.vstack([targets, transfer_targets]),
                np.concatenate([codes, np.full(len(X_transfer), -1)]),
                self.classes_,
                config,
                self.use_temperature_schedule,
                feature_names=getattr(self, "feature_names_in_", None),
                sample_weight=(
                    None
                    if sample_weight is None
                    else with_transfer_weights(sample_weight, len(X_transfer))
                ),
            )
        return student, None, 1

    def _fit_chain(self, student, config, X, codes, targets, cv, rng, sample_weight):
        from ._chain import ProgressiveChainClassifier, _ladder_bounds

        teacher = PrecomputedTeacher(FrozenEstimator(self.teacher_), targets)
        chain = ProgressiveChainClassifier(
            "auto",
            teacher=teacher,
            auto_student=student,
            temperature=config["temperature"],
            alpha=config["alpha"],
            cv=cv,
            random_state=rng.randint(np.iinfo(np.int32).max),
            n_jobs=self.n_jobs,
        )
        if not _ladder_bounds(student, teacher):
            # A student without a capacity to grow (logistic regression, a
            # perceptron) has no assistants: it is distilled directly, and the
            # chain's warning about it would name parameters the user never set.
            chain.set_params(max_assistants=0)
        names = getattr(self, "feature_names_in_", None)
        return chain.fit(
            with_feature_names(X, names),
            self.classes_[codes],
            sample_weight=sample_weight,
        )

    def _remember(self, records, students, weighted):
        scoring = self._memory_scoring(weighted)
        keys = self._memory_names()
        new = [
            {
                "meta_features": self.meta_features_,
                "config": {
                    **record["config"],
                    "student": keys[record["config"]["student"]],
                },
                "score": float(record["score"]),
                "scoring": scoring,
                "students": [keys[name] for name in students],
                "bounds": self._memory_bounds(),
            }
            for record in records
            # A NaN score (a failed scorer) says nothing about a configuration.
            if record["resource"] == 1.0
            and record["feasible"]
            and np.isfinite(record["score"])
        ]
        save_records(self.warm_start_memory, new)

    @staticmethod
    def _results_table(records):
        configs = [record["config"] for record in records]
        table = {"params": configs}
        for key in ("student", "size", "temperature", "alpha"):
            table[f"param_{key}"] = np.asarray(
                [config[key] for config in configs], dtype=object
            )
        table["stage"] = np.asarray([record["stage"] for record in records])
        for column in _RESULT_COLUMNS:
            table[column] = np.asarray([record[column] for record in records])
        table["feasible"] = np.asarray([record["feasible"] for record in records])
        return table

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the teachers, search the configurations and fit the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, given to every fit of the teachers (the folds and
            the held-out rows are split without them), the students of the
            search and the refit; transfer rows start from rows drawn in
            proportion to them and each weighs the mean positive weight. The
            held-out rows are scored with them (accuracy, log-loss and
            ``scoring``, whose metric must take them), and the warm-start
            memory keeps those scores apart from unweighted ones;
            ``fidelity_`` and the agreement and KL columns of
            ``search_results_`` stay unweighted.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X, y, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y, sample_weight=None):
        """Fit, and return the teacher's out-of-fold probabilities of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as in :meth:`fit`.

        Returns
        -------
        soft_targets : ndarray of shape (n_samples, n_classes)
            Out-of-fold teacher probabilities at temperature 1.
        """
        return self._fit(X, y, sample_weight)

    def transform(self, X):
        """The teacher's probabilities: the soft targets the student learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        soft_targets : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        refuse_nan(self, X, self._nan_refused_by)
        return teacher_proba(self.teacher_, X, self.classes_)

    def _student_proba(self, X):
        labels = student_labels(self.student_, self.classes_)
        return aligned_proba(self.student_, X, labels)

    def predict_proba(self, X):
        """Class probabilities of the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        refuse_nan(self, X, self._nan_refused_by)
        return self._student_proba(X)
