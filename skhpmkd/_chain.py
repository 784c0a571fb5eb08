"""Teacher -> assistants -> student: progressive (teacher-assistant) distillation."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._base import SoftTargetOutputMixin, refuse_nan
from ._distiller import default_student, default_teacher, encode_target
from ._parallel import parallel_map
from ._sample_weight import check_fold_weights, weights_of
from ._size import capacity, model_size
from ._soft_targets import (
    _LIGHTGBM_ROUND_ALIASES,
    aligned_proba,
    boosting_rounds_parameter,
    check_weighted_student,
    fit_soft_student,
    is_round_based,
    keeps_tempered_output,
    n_boosting_rounds,
    student_labels,
    untempered,
)
from ._teachers import (
    PrecomputedTeacher,
    check_weighted_teacher,
    count_teacher_fits,
    fit_teacher,
    seed_estimator,
    shared_splits,
)
from ._validation import HasFitAndProba, has_predict_proba, is_frozen
from .metrics import kl_divergence, top1_agreement

# Capacity knobs of the same-family ladder: counts grow geometrically between
# the student and the teacher, depths arithmetically.
_GEOMETRIC_KNOBS = ("n_estimators", "num_leaves", "max_leaf_nodes")
_ARITHMETIC_KNOBS = ("max_depth",)
# When the teacher is of another family, the largest rung of the ladder is the
# student with these growth factors.
_GEOMETRIC_GROWTH = 8
_DEPTH_GROWTH = 3
# Library defaults that XGBoost reports as None.
_XGBOOST_DEFAULTS = {"n_estimators": 100, "max_depth": 6}


def cross_family_steps():
    """The seeds' cross-family chain LR -> DT -> RF -> GBM -> XGB.

    Knowledge passes from the teacher to a logistic regression, then to ever
    more flexible families; the last step, the student, is an XGBoost model
    when xgboost is installed and a histogram gradient boosting model
    otherwise. Pass the result as ``steps``.

    Returns
    -------
    steps : list of (str, estimator) tuples
    """
    try:
        from xgboost import XGBClassifier

        last = ("xgboost", XGBClassifier(n_estimators=100, max_depth=4))
    except ImportError:
        last = ("hist_gradient_boosting", HistGradientBoostingClassifier())
    return [
        ("logistic", LogisticRegression(max_iter=1000)),
        ("tree", DecisionTreeClassifier(max_depth=6)),
        ("forest", RandomForestClassifier(n_estimators=100, max_depth=8)),
        ("gbm", GradientBoostingClassifier(n_estimators=100, max_depth=3)),
        last,
    ]


def _knobs(estimator):
    """Capacity parameters of ``estimator`` with a positive value."""
    params = estimator.get_params(deep=False)
    if type(estimator).__module__.split(".")[0] == "xgboost":
        params = {
            key: _XGBOOST_DEFAULTS.get(key) if value is None else value
            for key, value in params.items()
        }
    names = _GEOMETRIC_KNOBS + _ARITHMETIC_KNOBS
    if isinstance(estimator, HistGradientBoostingClassifier):
        names += ("max_iter",)
    knobs = {
        name: int(params[name])
        for name in names
        if isinstance(params.get(name), Integral) and params[name] > 0
    }
    if is_round_based(estimator):
        name = boosting_rounds_parameter(estimator)
        if name != "n_estimators":
            # A LightGBM alias such as num_iterations replaces n_estimators.
            knobs.pop("n_estimators", None)
            rounds = n_boosting_rounds(estimator)
            if rounds > 0:
                knobs[name] = rounds
    return knobs


def _teacher_knob(name, teacher_knobs):
    """The teacher's value of the student's knob ``name``, or None; the number
    of rounds matches whichever of LightGBM's names each of them sets."""
    if name in _LIGHTGBM_ROUND_ALIASES:
        rounds = [
            teacher_knobs[key]
            for key in _LIGHTGBM_ROUND_ALIASES
            if key in teacher_knobs
        ]
        if rounds:
            return rounds[0]
    return teacher_knobs.get(name)


def _capacity_model(estimator):
    """The model whose capacity knobs count (a pipeline's last step, recursively),
    and the prefix that names its parameters from ``estimator``."""
    # The teacher HPMKDClassifier hands its chain is its fitted teacher, frozen,
    # with the targets it computed.
    if isinstance(estimator, PrecomputedTeacher):
        estimator = estimator.teacher
    if isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    prefix = ""
    while isinstance(estimator, Pipeline):
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return estimator, prefix


def _ladder_bounds(student, teacher):
    """``(low, high)`` value of each capacity knob that can grow above the student.

    Knobs are named as ``student.set_params`` takes them.
    """
    student, prefix = _capacity_model(student)
    teacher, _ = _capacity_model(teacher)
    low = _knobs(student)
    same_family = type(teacher) is type(student)
    high_teacher = _knobs(teacher) if same_family else {}
    bounds = {}
    for name, value in low.items():
        if _teacher_knob(name, high_teacher) is not None:
            high = max(value, _teacher_knob(name, high_teacher))
        elif name in _ARITHMETIC_KNOBS:
            high = value + _DEPTH_GROWTH
        else:
            high = value * _GEOMETRIC_GROWTH
        if high > value:
            bounds[prefix + name] = (value, high)
    return bounds


def _no_ladder_reason(student, teacher):
    """Why ``_ladder_bounds(student, teacher)`` is empty, for the warning."""
    student, _ = _capacity_model(student)
    teacher, _ = _capacity_model(teacher)
    name = type(student).__name__
    low = _knobs(student)
    if low:
        # Empty bounds with knobs set: the teacher, of the same family, caps
        # every one of them at or below the student's value.
        high = _knobs(teacher)
        sizes = ", ".join(
            f"{knob}={value} (teacher: {_teacher_knob(knob, high)})"
            for knob, value in low.items()
        )
        return (
            f"auto_student {name} is already as large as the teacher "
            f"{type(teacher).__name__}, or larger ({sizes}), so there is no room "
            "for an assistant between them"
        )
    knobs = ", ".join(_GEOMETRIC_KNOBS + _ARITHMETIC_KNOBS)
    return (
        f"auto_student {name} has no capacity parameter set to a positive "
        f"integer that can grow ({knobs}, or max_iter of HistGradientBoosting; "
        "a pipeline's last step counts)"
    )


def _rung_params(bounds, fraction):
    """Capacity knobs a ``fraction`` of the way from the student (0) to the top (1)."""
    params = {}
    for name, (low, high) in bounds.items():
        if name.rsplit("__", 1)[-1] in _ARITHMETIC_KNOBS:
            params[name] = int(round(low + (high - low) * fraction))
        else:
            params[name] = int(round(low * (high / low) ** fraction))
    return params


def _is_drop(step):
    """Whether a step is ``"drop"``: an assistant left out, as in
    :class:`~sklearn.ensemble.VotingClassifier`."""
    return isinstance(step, str) and step == "drop"


def _is_pair(step):
    return isinstance(step, tuple) and len(step) == 2


def _paired_agreement(teacher_proba, old_proba, new_proba):
    """Rows where only the new, and only the old, student agrees with the teacher."""
    teacher_top = np.argmax(teacher_proba, axis=1)
    old_agrees = np.argmax(old_proba, axis=1) == teacher_top
    new_agrees = np.argmax(new_proba, axis=1) == teacher_top
    return int(np.sum(new_agrees & ~old_agrees)), int(np.sum(old_agrees & ~new_agrees))


def _distil_fold(
    step,
    X,
    targets,
    y,
    classes,
    train,
    test,
    temperature,
    alpha,
    feature_names,
    sample_weight,
):
    """Distil ``step`` on ``train`` and predict ``test``; with no split, all rows."""
    rows = slice(None) if train is None else train
    fitted, _ = fit_soft_student(
        step,
        X[rows],
        targets[rows],
        y[rows],
        classes,
        alpha=alpha,
        temperature=temperature,
        feature_names=feature_names,
        sample_weight=weights_of(sample_weight, rows),
    )
    if train is None:
        return fitted
    return aligned_proba(fitted, X[test], student_labels(step, classes))


def _measured(count, model):
    """``count(model)``, or ``None`` for a model of unknown size."""
    try:
        return count(model)
    except ValueError:
        return None


class ProgressiveChainClassifier(
    SoftTargetOutputMixin,
    ClassifierMixin,
    TransformerMixin,
    MetaEstimatorMixin,
    _BaseComposition,
):
    """Distil a teacher through a chain of assistants into a student.

    Knowledge passes teacher -> step 1 -> ... -> last step (teacher-assistant
    distillation). Each step learns the exact soft targets of the step before
    it, taken out-of-fold: the previous step is cross-fitted on the same
    folds, so the targets of a row come from a model that did not see that
    row. The previous step's targets can be mixed with the teacher's
    (``teacher_weight``). The last step is the deployed ``student_``.

    With ``steps="auto"`` the assistants are chosen by measurement: a
    same-family ladder between ``auto_student`` and the teacher (boosting rounds,
    leaves and tree counts grow geometrically, depth arithmetically) is
    bisected, and an assistant is inserted between the two neighbours with
    the largest out-of-fold fidelity gap (difference of their top-1 agreement
    with the teacher) while that gap exceeds ``fidelity_gap``, and kept only
    if the student's out-of-fold agreement with the teacher improves by more
    than twice its standard error (a paired sign test over the rows where
    the students with and without the assistant disagree).

    Parameters
    ----------
    steps : list of (str, estimator) tuples, "auto" or None, default=None
        The chain after the teacher, the student last. Each estimator needs
        ``fit`` and ``predict_proba``, and is trained (a
        :class:`~sklearn.frozen.FrozenEstimator` is refused); steps are
        reachable through ``get_params`` and ``set_params`` by name, as in a
        ``Pipeline``. An assistant given as ``"drop"`` is left out (its
        listed temperature is not used), so a search can try the chain with
        and without it; the student cannot be dropped. Any order is allowed,
        including the seeds' cross-family order (logistic regression,
        decision tree, random forest, gradient boosting, then XGBoost);
        ``stages_`` reports the measured capacity of each step.
        ``"auto"`` builds the chain from ``auto_student`` by measurement,
        and ``None`` means ``"auto"``: on the tasks we measured, fixed
        assistants did not beat direct distillation, so by default an
        assistant is kept only when it helps.
    teacher : classifier, default=None
        Unfitted classifier with ``predict_proba`` (fitted on a clone) or a
        pre-fitted one wrapped in :class:`~sklearn.frozen.FrozenEstimator`.
        ``None`` means ``HistGradientBoostingClassifier()``.
    auto_student : classifier, default=None
        The deployed model when ``steps`` is ``"auto"`` or ``None``; ``None`` means
        ``DecisionTreeClassifier(max_depth=5)``. Must be ``None`` otherwise,
        since the last of the ``steps`` is the student. Its assistants grow its
        ``n_estimators``, ``num_leaves``, ``max_leaf_nodes`` and ``max_depth``
        (``max_iter`` too for HistGradientBoosting), those of a pipeline's
        last step; a student with none of them set, or already as large as
        a teacher of its family, is distilled directly.
    temperature : float or list of float, default=1.0
        Distillation temperature of every step, or, with explicit ``steps``,
        one per step. XGBoost and LightGBM steps match tempered distributions
        on both sides; other families learn the tempered targets (logistic
        regression margins are rescaled back).
    alpha : float, default=0.5
        Weight of the soft targets against the hard labels in every step.
    teacher_weight : float, default=0.0
        Share of the teacher's out-of-fold targets mixed into the previous
        step's targets for steps after the first.
    fidelity_gap : float, default=0.02
        ``steps="auto"`` inserts an assistant between neighbours whose
        out-of-fold top-1 agreements with the teacher differ by more than this.
    max_assistants : int, default=2
        Most assistants ``steps="auto"`` inserts; ``0`` distils the student
        directly (a baseline to compare with, e.g. in a grid search).
    cv : int, cross-validation generator or iterable, default=3
        Folds for the teacher's and every step's out-of-fold predictions,
        split once per fit so that all of them share the folds (a bagged forest
        teacher uses its out-of-bag predictions instead).
    random_state : int, RandomState instance or None, default=None
        Seeds the teacher and every step.
    n_jobs : int, default=None
        Number of fits run in parallel (the folds of one step).

    Attributes
    ----------
    teacher_ : classifier
        The teacher fitted on all training rows (or the frozen teacher).
        Unless frozen, it was fitted on the class codes
        ``0..n_classes-1``, not the labels: its ``predict`` returns codes
        (``classes_[code]`` is the label).
    student_ : classifier
        The last step fitted on all training rows; ``predict_proba`` columns
        follow ``classes_``. It predicts the original labels, except an
        XGBoost student, which predicts their codes ``0..n_classes-1``.
    stages_ : list of dict
        One dict per step, in chain order: ``name``, ``estimator`` (fitted on
        all rows), ``size`` (:func:`~skhpmkd.metrics.model_size`), ``capacity``
        (leaf values plus coefficients; both ``None`` for a model of unknown
        size, such as naive Bayes or nearest neighbours),
        ``temperature``, and out-of-fold ``accuracy``, ``agreement`` (top-1
        with the teacher), ``kl`` (``KL(teacher || step)``) and
        ``agreement_previous`` (top-1 with the step before it), all
        unweighted by ``sample_weight``.
    fidelity_ : dict
        ``agreement`` and ``kl`` of the student to the teacher, out-of-fold
        and unweighted.
    teacher_accuracy_ : float
        Out-of-fold accuracy of the teacher, unweighted.
    trials_ : list of dict
        With ``steps="auto"``, every assistant tried: its ``params``,
        ``position`` in the chain, the student's agreement ``before`` and
        ``after``, the rows where only the new student agrees with the
        teacher (``wins``) and only the old one (``losses``), counted
        unweighted, and whether it was ``kept``. Empty otherwise.
    n_models_fitted_ : int
        Models fitted: the teacher's (none when frozen) and every step's, on
        each fold and on all rows, assistants tried by ``steps="auto"``
        included.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    TemperatureScheduledDistiller : One teacher, one student.
    HPMKDClassifier : Searches student, temperature and alpha automatically.

    Notes
    -----
    ``transform`` returns the student's probabilities; ``fit_transform``
    returns the student's out-of-fold probabilities instead, so the chain can
    be the teacher of another distiller. Fidelities are out-of-fold rather
    than measured on a held-out split, so that every row trains the deployed
    models; steps after the first learn targets that were themselves
    cross-fitted, so a row's label reaches them only through the models of
    other folds.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skhpmkd import ProgressiveChainClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> chain = ProgressiveChainClassifier(
    ...     [("assistant", DecisionTreeClassifier(max_depth=6)),
    ...      ("student", DecisionTreeClassifier(max_depth=2))],
    ...     teacher=RandomForestClassifier(n_estimators=50, random_state=0),
    ...     random_state=0,
    ... ).fit(X, y)
    >>> [stage["name"] for stage in chain.stages_]
    ['assistant', 'student']
    >>> chain.student_.regressor_.get_depth()
    2
    >>> bool(chain.fidelity_["agreement"] > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "steps": [None, StrOptions({"auto"}), list],
        "teacher": [None, HasFitAndProba()],
        "auto_student": [None, HasFitAndProba()],
        "temperature": [Interval(Real, 0, None, closed="neither"), list],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "teacher_weight": [Interval(Real, 0, 1, closed="both")],
        "fidelity_gap": [Interval(Real, 0, 1, closed="both")],
        "max_assistants": [Interval(Integral, 0, None, closed="left")],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        steps=None,
        *,
        teacher=None,
        auto_student=None,
        temperature=1.0,
        alpha=0.5,
        teacher_weight=0.0,
        fidelity_gap=0.02,
        max_assistants=2,
        cv=3,
        random_state=None,
        n_jobs=None,
    ):
        self.steps = steps
        self.teacher = teacher
        self.auto_student = auto_student
        self.temperature = temperature
        self.alpha = alpha
        self.teacher_weight = teacher_weight
        self.fidelity_gap = fidelity_gap
        self.max_assistants = max_assistants
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self, deep=True):
        """Parameters of the chain and, with ``deep``, of every named step.

        Parameters
        ----------
        deep : bool, default=True
            Include the parameters of the steps as ``<name>__<param>``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return self._get_params("steps", deep=deep)

    def set_params(self, **params):
        """Set parameters of the chain or of its steps (``<name>__<param>``).

        Parameters
        ----------
        **params : dict
            Parameters to set.

        Returns
        -------
        self : ProgressiveChainClassifier
            The chain.
        """
        self._set_params("steps", **params)
        return self

    def _is_auto(self):
        return self.steps is None or self.steps == "auto"

    def _resolved_teacher(self):
        return default_teacher() if self.teacher is None else self.teacher

    def _resolved_student(self):
        return default_student() if self.auto_student is None else self.auto_student

    def _resolved_steps(self):
        """The chain's (name, unfitted estimator) pairs, validated."""
        if self._is_auto():
            student = self._resolved_student()
            if is_frozen(student):
                raise ValueError(
                    "auto_student must be an unfitted classifier: the chain trains "
                    "it on the teacher's soft targets; got a FrozenEstimator (a "
                    "pre-fitted model can be the teacher)."
                )
            return [("student", student)]
        if self.auto_student is not None:
            raise ValueError(
                "auto_student is only used with steps='auto' or None; with a "
                "list of steps the last step is the student, but auto_student="
                f"{self.auto_student!r} was given."
            )
        steps = self.steps
        if len(steps) == 0:
            raise ValueError("steps must hold at least one (name, estimator) pair.")
        for step in steps:
            if not (_is_pair(step) and isinstance(step[0], str)):
                raise ValueError(
                    f"Each step must be a (name, estimator) tuple, got {step!r}."
                )
        names, estimators = zip(*steps)
        self._validate_names(names)
        self._check_estimators_are_instances(estimators)
        if _is_drop(steps[-1][1]):
            raise ValueError(
                f"The last step, {steps[-1][0]!r}, is the student and cannot be "
                "'drop'; only assistants can."
            )
        for name, estimator in steps:
            if _is_drop(estimator):
                continue
            if not (hasattr(estimator, "fit") and has_predict_proba(estimator)):
                raise ValueError(
                    f"Step {name!r} must have fit and predict_proba, got {estimator!r}."
                )
            if is_frozen(estimator):
                raise ValueError(
                    f"Step {name!r} must be an unfitted classifier: the chain "
                    "trains every step on the soft targets of the one before it; "
                    "got a FrozenEstimator (a pre-fitted model can be the teacher)."
                )
        return list(steps)

    def _kept(self, steps, temperatures):
        """The steps that are not ``"drop"``, and their temperatures."""
        kept = [i for i, (_, step) in enumerate(steps) if not _is_drop(step)]
        return [steps[i] for i in kept], [temperatures[i] for i in kept]

    def _temperatures(self, n_steps):
        if isinstance(self.temperature, list):
            if self._is_auto():
                raise ValueError(
                    "With steps='auto' the number of steps is not known in advance; "
                    f"give one temperature, not {self.temperature!r}."
                )
            if len(self.temperature) != n_steps:
                raise ValueError(
                    f"temperature holds {len(self.temperature)} values, but the chain "
                    f"has {n_steps} steps."
                )
            for value in self.temperature:
                # As for one temperature, a bool is a number (True is 1).
                if not (isinstance(value, Real) and 0 < value < np.inf):
                    raise ValueError(
                        "Every temperature must be a positive finite number, got "
                        f"{value!r}."
                    )
            return [float(value) for value in self.temperature]
        return [float(self.temperature)] * n_steps

    def _named_input_estimators(self):
        named = [("teacher", self._resolved_teacher())]
        if self._is_auto():
            named.append(("student", self._resolved_student()))
        elif isinstance(self.steps, list):
            named += [
                (f"step {step[0]!r}", step[1])
                for step in self.steps
                if _is_pair(step) and hasattr(step[1], "fit") and not _is_drop(step[1])
            ]
        return named

    def _distil(self, step, X, targets, codes, splits, temperature, sample_weight):
        """Fit ``step`` on all rows and return it with its out-of-fold probabilities.

        Every fit, on a fold's training rows or on all rows, gets those rows'
        ``sample_weight``.
        """
        settings = (
            temperature,
            self.alpha,
            getattr(self, "feature_names_in_", None),
            sample_weight,
        )
        jobs = [
            (clone(step), X, targets, codes, self.classes_, train, test, *settings)
            for train, test in splits
        ]
        jobs.append((step, X, targets, codes, self.classes_, None, None, *settings))
        *fold_probas, fitted = parallel_map(_distil_fold, jobs, self.n_jobs)
        oof = np.zeros_like(targets)
        for (_, test), proba in zip(splits, fold_probas):
            oof[test] = proba
        return fitted, oof

    def _run(
        self,
        steps,
        temperatures,
        start,
        stages,
        X,
        codes,
        splits,
        teacher_oof,
        sample_weight,
    ):
        """Distil ``steps[start:]``, each from the one before; return all stages.

        The steps learn with ``sample_weight``; the stages' measures count rows.
        """
        stages = list(stages[:start])
        for index in range(start, len(steps)):
            name, step = steps[index]
            previous = teacher_oof
            if index:
                previous = stages[index - 1]["oof"]
                before = steps[index - 1][1]
                if temperatures[index - 1] != 1 and keeps_tempered_output(before):
                    # The step before predicts tempered targets; tempering
                    # them again would compound the temperature down the chain.
                    previous = untempered(previous, temperatures[index - 1])
            targets = previous
            if index and self.teacher_weight:
                targets = (
                    1 - self.teacher_weight
                ) * previous + self.teacher_weight * teacher_oof
            fitted, oof = self._distil(
                clone(step),
                X,
                targets,
                codes,
                splits,
                temperatures[index],
                sample_weight,
            )
            stages.append(
                {
                    "name": name,
                    "estimator": fitted,
                    "size": _measured(model_size, fitted),
                    "capacity": _measured(capacity, fitted),
                    "temperature": temperatures[index],
                    "accuracy": float(np.mean(np.argmax(oof, axis=1) == codes)),
                    "agreement": top1_agreement(teacher_oof, oof),
                    "kl": kl_divergence(teacher_oof, oof),
                    "agreement_previous": top1_agreement(previous, oof),
                    "oof": oof,
                }
            )
        return stages

    def _auto(self, student, X, codes, splits, teacher_oof, sample_weight):
        """Bisect the same-family ladder while neighbours' fidelity gaps are large.

        Every step learns with ``sample_weight``; the sign test counts rows.
        """
        bounds = _ladder_bounds(student, self.teacher_)
        if not bounds and self.max_assistants:
            warnings.warn(
                f"{_no_ladder_reason(student, self.teacher_)}: steps='auto' "
                "distils it directly, without assistants.",
                UserWarning,
            )
        temperature = self._temperatures(1)[0]
        fractions = [0.0]
        steps = [("student", student)]
        stages = self._run(
            steps, [temperature], 0, [], X, codes, splits, teacher_oof, sample_weight
        )
        self.trials_ = []
        while len(fractions) <= self.max_assistants:
            candidate = self._widest_gap(bounds, fractions, stages)
            if candidate is None:
                break
            position, fraction = candidate
            params = _rung_params(bounds, fraction)
            new_fractions = fractions[:position] + [fraction] + fractions[position:]
            new_steps = (
                steps[:position]
                + [("assistant", clone(student).set_params(**params))]
                + steps[position:]
            )
            new_steps = [
                (f"assistant_{i + 1}" if i < len(new_steps) - 1 else "student", step)
                for i, (_, step) in enumerate(new_steps)
            ]
            temperatures = [temperature] * len(new_steps)
            new_stages = self._run(
                new_steps,
                temperatures,
                position,
                stages,
                X,
                codes,
                splits,
                teacher_oof,
                sample_weight,
            )
            wins, losses = _paired_agreement(
                teacher_oof, stages[-1]["oof"], new_stages[-1]["oof"]
            )
            # Keep the assistant only if the student's gain in agreement is
            # larger than twice its standard error under a paired sign test:
            # smaller gains are fold noise and do not carry over to new rows.
            kept = bool(wins - losses > 2 * np.sqrt(wins + losses))
            self.trials_.append(
                dict(
                    params=params,
                    position=position,
                    before=stages[-1]["agreement"],
                    after=new_stages[-1]["agreement"],
                    wins=wins,
                    losses=losses,
                    kept=kept,
                )
            )
            if not kept:
                break
            fractions, steps, stages = new_fractions, new_steps, new_stages
            for stage, (name, _) in zip(stages, steps):
                stage["name"] = name
        return stages

    def _n_distillations(self, n_steps):
        """Times a step was distilled, each on every fold and on all rows.

        Fixed steps are distilled once each (``n_steps``). ``steps="auto"``
        distils the student alone, then each assistant tried refits every
        step from its position on.
        """
        if not self._is_auto():
            return n_steps
        count, n_tried_steps = 1, 1
        for trial in self.trials_:
            count += n_tried_steps + 1 - trial["position"]
            n_tried_steps += int(trial["kept"])
        return count

    def _widest_gap(self, bounds, fractions, stages):
        """Position and ladder fraction of the next assistant, or None."""
        agreements = [1.0] + [stage["agreement"] for stage in stages]
        edges = [1.0] + fractions
        gaps = sorted(
            (
                (agreements[i] - agreements[i + 1], i)
                for i in range(len(fractions))
                if agreements[i] - agreements[i + 1] > self.fidelity_gap
            ),
            reverse=True,
        )
        for _, i in gaps:
            fraction = (edges[i] + edges[i + 1]) / 2
            params = _rung_params(bounds, fraction)
            upper = _rung_params(bounds, edges[i])
            lower = _rung_params(bounds, edges[i + 1])
            if params and params != upper and params != lower:
                return i, fraction
        return None

    def _fit(self, X, y, sample_weight):
        steps = self._resolved_steps()
        # A listed temperature holds one value per step, dropped ones too.
        steps, temperatures = self._kept(steps, self._temperatures(len(steps)))
        # What predict uses, whatever set_params changes before a refit.
        self._nan_refused_by = self._nan_refusers()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        refuse_nan(self, X, self._nan_refused_by)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=float, ensure_non_negative=True, copy=True
            )
            # Refuse a learner that cannot take them before anything is fitted.
            check_weighted_teacher(self._resolved_teacher())
            for name, step in steps:
                try:
                    check_weighted_student(step)
                except ValueError as error:
                    raise ValueError(f"Step {name!r}: {error}") from None
        self.classes_, codes = encode_target(self, y)
        rng = check_random_state(self.random_state)
        teacher = seed_estimator(clone(self._resolved_teacher()), rng)
        steps = [(name, seed_estimator(clone(step), rng)) for name, step in steps]
        # Split once: the teacher and every step are cross-fitted on the same
        # folds, even with a splitter that shuffles without a seed of its own.
        splits = shared_splits(self.cv, X, codes)
        self.teacher_, teacher_oof = fit_teacher(
            teacher,
            X,
            codes,
            self.classes_,
            cv=splits,
            n_jobs=self.n_jobs,
            feature_names=getattr(self, "feature_names_in_", None),
            sample_weight=sample_weight,
        )
        self.teacher_accuracy_ = float(np.mean(np.argmax(teacher_oof, axis=1) == codes))
        check_fold_weights(sample_weight, splits, "the steps")
        if self._is_auto():
            stages = self._auto(
                steps[0][1], X, codes, splits, teacher_oof, sample_weight
            )
        else:
            self.trials_ = []
            stages = self._run(
                steps,
                temperatures,
                0,
                [],
                X,
                codes,
                splits,
                teacher_oof,
                sample_weight,
            )
        student_oof = stages[-1].pop("oof")
        for stage in stages:
            stage.pop("oof", None)
        self.n_models_fitted_ = count_teacher_fits(
            teacher, self.teacher_, splits, X, codes
        ) + (len(splits) + 1) * self._n_distillations(len(stages))
        self.stages_ = stages
        self.student_ = stages[-1]["estimator"]
        self.fidelity_ = {"agreement": stages[-1]["agreement"], "kl": stages[-1]["kl"]}
        return student_oof

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the teacher, then distil it step by step down the chain.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, given to every fit of the teacher and
            multiplying each row's loss in every fit of every step, on each
            fold and on all rows. The folds are split without them, and what
            the chain reports (``stages_``, ``fidelity_``,
            ``teacher_accuracy_``, and the sign test of ``steps="auto"``,
            which counts rows) does not use them.

        Returns
        -------
        self : object
            The fitted chain.
        """
        self._fit(X, y, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y, sample_weight=None):
        """Fit, and return the student's out-of-fold probabilities of ``X``.

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
            Probabilities of students that did not see the row, columns in
            ``classes_`` order.
        """
        return self._fit(X, y, sample_weight)

    def _student_proba(self, X):
        labels = student_labels(self.student_, self.classes_)
        return aligned_proba(self.student_, X, labels)

    def transform(self, X):
        """The student's class probabilities, as soft targets.

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
        return self.predict_proba(X)

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
