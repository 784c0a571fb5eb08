"""One teacher, one student: exact soft-target distillation, scheduled temperature."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import check_cv
from sklearn.preprocessing import LabelEncoder
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._base import SoftTargetOutputMixin, refuse_nan
from ._augment import (
    AUGMENT_METHODS,
    check_transfer_size,
    n_weighted,
    transfer_rows,
)
from ._frames import declared_codes, same_columns
from ._sample_weight import with_transfer_weights
from ._schedule import SCHEDULES
from ._soft_targets import (
    aligned_proba,
    check_weighted_student,
    fit_soft_student,
    student_labels,
    teacher_logits,
)
from ._teachers import count_teacher_fits, fit_teacher, seed_estimator, teacher_proba
from ._validation import HasFitAndProba, is_frozen
from .metrics import kl_divergence, top1_agreement


def default_teacher():
    """The teacher used when none is given: a histogram gradient boosting model."""
    return HistGradientBoostingClassifier()


def default_student():
    """The student used when none is given: a depth-5 decision tree."""
    return DecisionTreeClassifier(max_depth=5)


def encode_target(estimator, y):
    """Check a classification target; return ``(classes, codes)``."""
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    if len(encoder.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes, but "
            f"y holds only one class: {encoder.classes_.tolist()[0]!r}."
        )
    return encoder.classes_, encoder.transform(y)


def tempered(proba, temperature, standardize=False):
    """Probabilities whose logits are divided by ``temperature``."""
    return softmax(teacher_logits(proba, standardize) / temperature, axis=1)


class TemperatureScheduledDistiller(
    SoftTargetOutputMixin,
    ClassifierMixin,
    TransformerMixin,
    MetaEstimatorMixin,
    BaseEstimator,
):
    """Distil one teacher into one student on exact soft targets.

    The teacher's probabilities on the training rows are out-of-fold (or
    out-of-bag), so they carry the teacher's uncertainty rather than its
    memory of the labels. The student minimises
    ``alpha T^2 KL(q^T || p^T) + (1 - alpha) CE(y, p)``: XGBoost and LightGBM
    students through that loss as their boosting objective, with a temperature
    that can change every round; log-loss learners through rows duplicated
    once per class; trees and forests through the equivalent multi-output
    regression.

    Parameters
    ----------
    teacher : classifier, default=None
        Unfitted classifier with ``predict_proba`` (fitted on a clone) or a
        pre-fitted one wrapped in :class:`~sklearn.frozen.FrozenEstimator`.
        ``None`` means ``HistGradientBoostingClassifier()``. An skhpmkd
        estimator, such as :class:`AttentionMultiTeacherClassifier`, gives its
        out-of-fold soft targets through ``fit_transform`` (and labels any
        other rows through ``transform``); a bagged forest (``bootstrap=True``)
        gives its out-of-bag predictions from one fit, whatever ``cv``; any
        other classifier is cross-fitted.
    student : classifier, default=None
        The model to deploy, unfitted (a clone is fitted), with
        ``predict_proba``. Distillation trains it, so a
        :class:`~sklearn.frozen.FrozenEstimator` is refused. ``None`` means
        ``DecisionTreeClassifier(max_depth=5)``.
    temperature : float, default=1.0
        Distillation temperature; the first round's for annealing schedules.
    alpha : float, default=0.5
        Weight of the teacher's soft targets against the hard labels.
    schedule : {"constant", "linear", "cosine", "adaptive"}, default="constant"
        Temperature per boosting round for XGBoost and LightGBM students (bare
        or ending a pipeline):
        constant, annealed linearly or along a cosine from ``temperature`` to
        ``final_temperature``, or adaptive (annealed as the student's KL to the
        teacher falls, raised when it grows). Students without rounds use
        ``temperature``.
    final_temperature : float, default=1.0
        Temperature of the last round of the annealing schedules.
    standardize_logits : bool, default=False
        Standardise each row of the teacher's logits before the temperature,
        a label-free way to put teachers of different sharpness on one scale.
        Not for two classes, where it leaves only the teacher's choice of
        class (with a warning).
    cv : int, cross-validation generator or iterable, default=5
        Splitter for the teacher's out-of-fold soft targets.
    augment : float, default=None
        Size of a transfer set, as a multiple of the training rows, labelled
        by the teacher's soft targets. ``None`` adds no rows.
    augment_method : {"interpolate", "munge"}, default="interpolate"
        How the transfer rows are made: on the segment between a training row
        and one of its 5 nearest neighbours (category-like columns take one
        of the two values), or by MUNGE perturbation.
    random_state : int, RandomState instance or None, default=None
        Seeds the teacher, the student and the transfer set.
    n_jobs : int, default=None
        Number of teacher fits run in parallel.

    Attributes
    ----------
    teacher_ : classifier
        The teacher fitted on all training rows (or the frozen teacher).
        Unless frozen, it was fitted on the class codes
        ``0..n_classes-1``, not the labels: its ``predict`` returns codes
        (``classes_[code]`` is the label).
    student_ : classifier
        The fitted student; ``predict_proba`` columns follow ``classes_``. It
        predicts the original labels, except an XGBoost student (bare or
        ending a pipeline), which predicts their codes ``0..n_classes-1``. A
        LightGBM student comes in a
        :class:`~skhpmkd._students.MarginClassifier` around its fitted
        booster, which ``clone`` cannot refit: cross-validate the distiller,
        not its ``student_``.
        An XGBoost or LightGBM student given a column name it refuses
        (``[``, ``]`` or ``<`` for XGBoost, JSON characters for LightGBM) is
        fitted on the bare array and has no ``feature_names_in_``.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    temperatures_ : ndarray of shape (n_rounds,)
        The temperature of each boosting round actually used, or the single
        temperature for students without rounds.
    fidelity_ : dict
        ``agreement`` (top-1) and ``kl`` (mean ``KL(teacher || student)``)
        between the teacher's soft targets and the student on the training rows.
    n_models_fitted_ : int
        Models fitted: the teacher's (one per fold of ``cv`` whose training
        rows hold more than one class, and one on all rows; a bagged forest
        one, two when some rows are in every bootstrap sample; none when
        frozen; for an skhpmkd estimator, its own ``n_models_fitted_``) and
        the student.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AttentionMultiTeacherClassifier : Fuses several teachers per sample.
    ProgressiveChainClassifier : Distils through assistants of decreasing size.
    HPMKDClassifier : Searches student, temperature and alpha automatically.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skhpmkd import TemperatureScheduledDistiller
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> distiller = TemperatureScheduledDistiller(
    ...     RandomForestClassifier(n_estimators=50, random_state=0),
    ...     DecisionTreeClassifier(max_depth=3),
    ...     alpha=0.7,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> distiller.student_.regressor_.get_depth()
    3
    >>> bool(distiller.fidelity_["agreement"] > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "teacher": [None, HasFitAndProba()],
        "student": [None, HasFitAndProba()],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "schedule": [StrOptions(set(SCHEDULES))],
        "final_temperature": [Interval(Real, 0, None, closed="neither")],
        "standardize_logits": ["boolean"],
        "cv": ["cv_object"],
        "augment": [None, Interval(Real, 0, None, closed="left")],
        "augment_method": [StrOptions(set(AUGMENT_METHODS))],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        teacher=None,
        student=None,
        *,
        temperature=1.0,
        alpha=0.5,
        schedule="constant",
        final_temperature=1.0,
        standardize_logits=False,
        cv=5,
        augment=None,
        augment_method="interpolate",
        random_state=None,
        n_jobs=None,
    ):
        self.teacher = teacher
        self.student = student
        self.temperature = temperature
        self.alpha = alpha
        self.schedule = schedule
        self.final_temperature = final_temperature
        self.standardize_logits = standardize_logits
        self.cv = cv
        self.augment = augment
        self.augment_method = augment_method
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _resolved(self):
        teacher = default_teacher() if self.teacher is None else self.teacher
        student = default_student() if self.student is None else self.student
        return teacher, student

    def _named_input_estimators(self):
        return list(zip(("teacher", "student"), self._resolved()))

    def _fit(self, X, y, X_unlabeled, sample_weight):
        teacher, student = self._resolved()
        if is_frozen(student):
            raise ValueError(
                "student must be an unfitted classifier: distillation trains it "
                "on the teacher's soft targets; got a FrozenEstimator."
            )
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
        if self.standardize_logits and len(self.classes_) == 2:
            warnings.warn(
                "standardize_logits=True with two classes gives every row the "
                "same target confidence: a row's two standardised logits are "
                "always -1 and 1, so only the teacher's choice of class is "
                "left, not how sure it is.",
                UserWarning,
            )
        rng = check_random_state(self.random_state)
        if sample_weight is not None:
            # Before the teacher's fit; fit_teacher checks the teacher itself.
            check_weighted_student(student)
        if self.augment:
            check_transfer_size(
                n_weighted(len(X), sample_weight),
                X.shape[1],
                len(self.classes_),
                self.augment,
            )
        if X_unlabeled is not None:
            # Before the teacher's fit, like every other check.
            X_unlabeled = self._checked_unlabeled(X, X_unlabeled)
        teacher = seed_estimator(clone(teacher), rng)
        student = seed_estimator(clone(student), rng)
        # Resolved once, so that the folds counted below are the ones fitted.
        cv = check_cv(self.cv, codes, classifier=True)
        self.teacher_, train_targets = fit_teacher(
            teacher,
            X,
            codes,
            self.classes_,
            cv=cv,
            n_jobs=self.n_jobs,
            feature_names=getattr(self, "feature_names_in_", None),
            sample_weight=sample_weight,
        )

        X_all, targets, y_all, weight_all = X, train_targets, codes, sample_weight
        X_transfer = self._transfer_rows(
            X, X_unlabeled, rng, sample_weight, codes_declared
        )
        if len(X_transfer):
            X_all = np.vstack([X, X_transfer])
            targets = np.vstack(
                [train_targets, teacher_proba(self.teacher_, X_transfer, self.classes_)]
            )
            y_all = np.concatenate([codes, np.full(len(X_transfer), -1)])
            if sample_weight is not None:
                weight_all = with_transfer_weights(sample_weight, len(X_transfer))
        self.student_, temperatures = fit_soft_student(
            student,
            X_all,
            targets,
            y_all,
            self.classes_,
            alpha=self.alpha,
            temperature=self.temperature,
            schedule=self.schedule,
            final_temperature=self.final_temperature,
            standardize=self.standardize_logits,
            feature_names=getattr(self, "feature_names_in_", None),
            sample_weight=weight_all,
        )
        self.temperatures_ = np.asarray(temperatures, dtype=float)
        self.n_models_fitted_ = (
            count_teacher_fits(teacher, self.teacher_, cv, X, codes) + 1
        )
        # What transform and predict use, whatever set_params changes before
        # a refit.
        self._standardize_logits = self.standardize_logits
        student_proba = self._student_proba(X)
        self.fidelity_ = {
            "agreement": top1_agreement(train_targets, student_proba),
            "kl": kl_divergence(train_targets, student_proba),
        }
        return train_targets

    def _transfer_rows(self, X, X_unlabeled, rng, sample_weight, codes):
        parts = [np.empty((0, X.shape[1]))]
        if self.augment:
            parts.append(
                transfer_rows(
                    X,
                    self.augment,
                    self.augment_method,
                    random_state=rng,
                    sample_weight=sample_weight,
                    codes=codes,
                )
            )
        if X_unlabeled is not None:
            parts.append(X_unlabeled)
        return np.vstack(parts)

    def _checked_unlabeled(self, X, X_unlabeled):
        """``X_unlabeled`` as a float array with the columns of ``X``."""
        names = getattr(self, "feature_names_in_", None)
        columns = getattr(X_unlabeled, "columns", None)
        if not same_columns(names, columns):
            raise ValueError(
                f"X_unlabeled has columns {list(columns)}, but X has columns "
                f"{list(names)}."
            )
        if np.ndim(X_unlabeled) == 1:
            raise ValueError(
                "X_unlabeled, the third argument of fit, must be 2-D rows "
                f"like X; got shape {np.shape(X_unlabeled)}. Row weights go "
                "in sample_weight=."
            )
        try:
            X_unlabeled = check_array(
                X_unlabeled,
                ensure_all_finite="allow-nan",
                dtype=float,
                input_name="X_unlabeled",
            )
        except ValueError as error:
            raise ValueError(f"X_unlabeled: {error}") from None
        refuse_nan(self, X_unlabeled, self._nan_refused_by, "X_unlabeled")
        if X_unlabeled.shape[1] != X.shape[1]:
            raise ValueError(
                f"X_unlabeled has {X_unlabeled.shape[1]} features, but X has "
                f"{X.shape[1]}."
            )
        return X_unlabeled

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, X_unlabeled=None, sample_weight=None):
        """Fit the teacher, then distil it into the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        X_unlabeled : array-like of shape (n_unlabeled, n_features), default=None
            Extra rows without labels; the teacher labels them with its soft
            targets and the student learns from them too.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, given to every fit of the teacher and
            multiplying each row's loss in the student. Transfer rows start
            from training rows drawn in proportion to them; each transfer row
            and each row of ``X_unlabeled`` weighs the mean positive weight.
            The teacher's folds and ``fidelity_`` do not use them.

        Returns
        -------
        self : object
            The fitted distiller.
        """
        self._fit(X, y, X_unlabeled, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y, X_unlabeled=None, sample_weight=None):
        """Fit, and return the teacher's out-of-fold soft targets of ``X``.

        Unlike ``fit(X, y).transform(X)``, the targets of each training row
        come from a teacher that did not see that row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        X_unlabeled : array-like of shape (n_unlabeled, n_features), default=None
            Extra unlabelled rows for the student.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (see :meth:`fit`).

        Returns
        -------
        soft_targets : ndarray of shape (n_samples, n_classes)
            Out-of-fold teacher probabilities at the final temperature.
        """
        train_targets = self._fit(X, y, X_unlabeled, sample_weight)
        return tempered(train_targets, self.temperatures_[-1], self._standardize_logits)

    def transform(self, X):
        """The teacher's soft targets at the final temperature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        soft_targets : ndarray of shape (n_samples, n_classes)
            Teacher probabilities with logits divided by ``temperatures_[-1]``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        refuse_nan(self, X, self._nan_refused_by)
        proba = teacher_proba(self.teacher_, X, self.classes_)
        return tempered(proba, self.temperatures_[-1], self._standardize_logits)

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
