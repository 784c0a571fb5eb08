"""Plots of teacher weights, fidelity and diversity as scikit-learn Displays.

matplotlib is an optional extra (``pip install skhpmkd[plot]``); it is
imported only when a plot is drawn.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .metrics import (
    _check_teacher_names,
    _check_teachers,
    _dict_teacher_names,
    centroid_fidelity,
    individual_fidelity,
    pairwise_kl,
)


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib: pip install 'skhpmkd[plot]'."
        ) from error
    return plt


def _axes(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


def _names(teacher_names, n_teachers):
    return [str(name) for name in _check_teacher_names(teacher_names, n_teachers)]


def _check_values(values, name, shape, ndim):
    """``values`` as a float array of one of the ``ndim``, with no empty axis."""
    array = np.asarray(values, dtype=float)
    if array.ndim not in ndim or 0 in array.shape:
        raise ValueError(f"{name} must have shape {shape}; got shape {array.shape}.")
    return array


def _is_multi_teacher(estimator):
    return hasattr(estimator, "teacher_proba") and hasattr(estimator, "teacher_weights")


def _multi_teacher(estimator):
    """The fitted multi-teacher estimator itself, or the teacher of a distiller.

    Raises ``NotFittedError`` for an unfitted multi-teacher estimator or
    distiller and ``ValueError`` for any other estimator.
    """
    if _is_multi_teacher(estimator):
        check_is_fitted(estimator)
        return estimator
    teacher = getattr(estimator, "teacher_", None)
    if _is_multi_teacher(teacher):
        return teacher
    got = type(estimator).__name__
    if teacher is not None:
        got = f"a {got} whose teacher_ is a {type(teacher).__name__}"
    elif hasattr(estimator, "teacher") or hasattr(estimator, "teachers"):
        # A distiller: its teacher_ is only known once it is fitted.
        check_is_fitted(estimator)
    raise ValueError(
        "estimator must be an AttentionMultiTeacherClassifier or a distiller "
        f"whose teacher_ is one; got {got}."
    )


class TeacherWeightsDisplay:
    """Weight of each teacher: per-sample spread or one weight per teacher.

    Use :meth:`from_estimator` to build it from a fitted
    :class:`~skhpmkd.AttentionMultiTeacherClassifier`.

    Parameters
    ----------
    weights : array-like of shape (n_samples, n_teachers) or (n_teachers,)
        Per-sample weights (drawn as box plots) or one weight per teacher
        (drawn as bars).
    teacher_names : list of str, default=None
        Teacher names; ``teacher_0``, ... when ``None``.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes the weights are drawn on.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    TeacherFidelityDisplay : Fidelity of a student to each teacher.
    PairwiseDiversityDisplay : Heatmap of the pairwise KL between teachers.

    Examples
    --------
    >>> from skhpmkd.plotting import TeacherWeightsDisplay
    >>> display = TeacherWeightsDisplay([0.2, 0.5, 0.3], teacher_names=["a", "b", "c"])
    >>> display = display.plot()
    >>> display.ax_.get_ylabel()
    'teacher weight'
    """

    def __init__(self, weights, *, teacher_names=None):
        self.weights = weights
        self.teacher_names = teacher_names

    def plot(self, *, ax=None, title=None):
        """Draw the weights.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : TeacherWeightsDisplay
            This display, with ``ax_`` and ``figure_`` set.
        """
        weights = _check_values(
            self.weights, "weights", "(n_samples, n_teachers) or (n_teachers,)", (1, 2)
        )
        ax = _axes(ax)
        names = _names(self.teacher_names, weights.shape[-1])
        positions = np.arange(1, len(names) + 1)
        if weights.ndim == 2:
            # Rows beyond the whiskers are drawn: a teacher that takes almost
            # all the weight on a few rows is what attention weights show.
            ax.boxplot(weights, positions=positions, flierprops={"markersize": 2})
            ax.plot(positions, weights.mean(axis=0), "o", label="mean")
            ax.legend()
        else:
            ax.bar(positions, weights)
        ax.set_xticks(positions, names)
        ax.set_ylabel("teacher weight")
        if title is not None:
            ax.set_title(title)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, X=None, *, ax=None, title=None):
        """Plot the weights of a fitted multi-teacher estimator.

        Parameters
        ----------
        estimator : AttentionMultiTeacherClassifier or distiller
            Fitted multi-teacher estimator, or a fitted distiller whose
            ``teacher_`` is one.
        X : array-like of shape (n_samples, n_features), default=None
            Rows to draw the label-free per-sample weights of; ``None`` draws
            ``teacher_weights_``, the mean weights over the training rows.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : TeacherWeightsDisplay
        """
        model = _multi_teacher(estimator)
        weights = model.teacher_weights_ if X is None else model.teacher_weights(X)
        return cls(weights, teacher_names=model.teacher_names_).plot(ax=ax, title=title)


class TeacherFidelityDisplay:
    """Fidelity ``KL(T_i || S)`` of a student to each teacher, and to their centroid.

    Parameters
    ----------
    individual_fidelity : array-like of shape (n_teachers,)
        ``KL(T_i || S)`` per teacher, lower is more faithful.
    teacher_names : list of str, default=None
        Teacher names; ``teacher_0``, ... when ``None``.
    centroid_fidelity : float, default=None
        ``KL(centroid || S)``, drawn as a horizontal line.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes the fidelity is drawn on.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    skhpmkd.metrics.fidelity_report : All fidelity measures in one dict.
    TeacherWeightsDisplay : Weight of each teacher.

    Examples
    --------
    >>> from skhpmkd.plotting import TeacherFidelityDisplay
    >>> display = TeacherFidelityDisplay.from_predictions(
    ...     [[[0.5, 0.5]], [[0.9, 0.1]]], [[0.8, 0.2]], teacher_names=["a", "b"]
    ... )
    >>> display.individual_fidelity.round(3)
    array([0.223, 0.037])
    """

    def __init__(
        self, individual_fidelity, *, teacher_names=None, centroid_fidelity=None
    ):
        self.individual_fidelity = individual_fidelity
        self.teacher_names = teacher_names
        self.centroid_fidelity = centroid_fidelity

    def plot(self, *, ax=None, title=None):
        """Draw one bar per teacher and the centroid fidelity as a line.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : TeacherFidelityDisplay
            This display, with ``ax_`` and ``figure_`` set.
        """
        fidelity = _check_values(
            self.individual_fidelity, "individual_fidelity", "(n_teachers,)", (1,)
        )
        if self.centroid_fidelity is not None and np.ndim(self.centroid_fidelity):
            raise ValueError(
                "centroid_fidelity must be a float or None; got shape "
                f"{np.shape(self.centroid_fidelity)}."
            )
        ax = _axes(ax)
        names = _names(self.teacher_names, len(fidelity))
        positions = np.arange(len(names))
        ax.bar(positions, fidelity, label="KL(teacher || student)")
        if self.centroid_fidelity is not None:
            ax.axhline(
                self.centroid_fidelity,
                color="black",
                linestyle="--",
                label="KL(centroid || student)",
            )
        ax.set_xticks(positions, names)
        ax.set_ylabel("KL divergence (nats)")
        ax.legend()
        if title is not None:
            ax.set_title(title)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_predictions(
        cls, teacher_probas, student_proba, *, teacher_names=None, ax=None, title=None
    ):
        """Plot fidelity from teacher and student probabilities.

        Parameters
        ----------
        teacher_probas : sequence or dict of array-like of shape (n_samples, n_classes)
            Probability rows of each teacher; a dict's keys name the teachers.
        student_proba : array-like of shape (n_samples, n_classes)
            Probability rows of the student.
        teacher_names : list of str, default=None
            Teacher names; the dict keys, or ``teacher_0``, ... when ``None``.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : TeacherFidelityDisplay
        """
        teacher_names = _dict_teacher_names(teacher_probas, teacher_names)
        # Read once: teacher_probas may be a generator.
        probas = _check_teachers(teacher_probas)
        return cls(
            individual_fidelity(probas, student_proba),
            teacher_names=teacher_names,
            centroid_fidelity=centroid_fidelity(probas, student_proba),
        ).plot(ax=ax, title=title)

    @classmethod
    def from_estimator(cls, estimator, X, *, student=None, ax=None, title=None):
        """Plot the fidelity of a student to the teachers on ``X``.

        Parameters
        ----------
        estimator : AttentionMultiTeacherClassifier or distiller
            Fitted multi-teacher estimator, or a fitted distiller whose
            ``teacher_`` is one (the distiller is then the default student).
        X : array-like of shape (n_samples, n_features)
            Rows to measure fidelity on.
        student : classifier, default=None
            Fitted model whose ``predict_proba`` columns follow the teachers'
            ``classes_``. ``None`` means the distiller given as ``estimator``,
            or the fused ensemble itself.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : TeacherFidelityDisplay
        """
        model = _multi_teacher(estimator)
        if student is None:
            student = estimator
        return cls.from_predictions(
            model.teacher_proba(X),
            student.predict_proba(X),
            teacher_names=model.teacher_names_,
            ax=ax,
            title=title,
        )


class PairwiseDiversityDisplay:
    """Heatmap of ``KL(T_i || T_j)`` between every pair of teachers.

    Parameters
    ----------
    pairwise_kl : array-like of shape (n_teachers, n_teachers)
        Row ``i``, column ``j`` holds ``KL(T_i || T_j)``.
    teacher_names : list of str, default=None
        Teacher names; ``teacher_0``, ... when ``None``.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes of the heatmap.
    figure_ : matplotlib Figure
        Figure holding the axes.
    im_ : matplotlib AxesImage
        The heatmap.

    See Also
    --------
    skhpmkd.metrics.pairwise_kl : The matrix drawn here.

    Examples
    --------
    >>> from skhpmkd.plotting import PairwiseDiversityDisplay
    >>> display = PairwiseDiversityDisplay.from_predictions(
    ...     [[[0.5, 0.5]], [[0.9, 0.1]]], teacher_names=["a", "b"]
    ... )
    >>> display.pairwise_kl.round(4)
    array([[0.    , 0.5108],
           [0.3681, 0.    ]])
    """

    def __init__(self, pairwise_kl, *, teacher_names=None):
        self.pairwise_kl = pairwise_kl
        self.teacher_names = teacher_names

    def plot(self, *, ax=None, title=None, cmap="viridis"):
        """Draw the heatmap with each value written in its cell.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        title : str, default=None
            Title of the axes.
        cmap : str or matplotlib Colormap, default="viridis"
            Colormap of the heatmap.

        Returns
        -------
        display : PairwiseDiversityDisplay
            This display, with ``ax_``, ``figure_`` and ``im_`` set.
        """
        shape = "(n_teachers, n_teachers)"
        matrix = _check_values(self.pairwise_kl, "pairwise_kl", shape, (2,))
        if matrix.shape[0] != matrix.shape[1]:
            raise ValueError(
                f"pairwise_kl must have shape {shape}; got shape {matrix.shape}."
            )
        ax = _axes(ax)
        names = _names(self.teacher_names, len(matrix))
        self.im_ = ax.imshow(matrix, cmap=cmap)
        ax.figure.colorbar(self.im_, ax=ax, label="KL(row || column)")
        middle = (matrix.max() + matrix.min()) / 2
        for (row, column), value in np.ndenumerate(matrix):
            ax.text(
                column,
                row,
                f"{value:.3f}",
                ha="center",
                va="center",
                color="black" if value > middle else "white",
            )
        positions = np.arange(len(names))
        ax.set_xticks(positions, names)
        ax.set_yticks(positions, names)
        if title is not None:
            ax.set_title(title)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_predictions(
        cls, teacher_probas, *, teacher_names=None, ax=None, title=None, cmap="viridis"
    ):
        """Plot the pairwise KL of teacher probabilities.

        Parameters
        ----------
        teacher_probas : sequence or dict of array-like of shape (n_samples, n_classes)
            Probability rows of each teacher; a dict's keys name the teachers.
        teacher_names : list of str, default=None
            Teacher names; the dict keys, or ``teacher_0``, ... when ``None``.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        title : str, default=None
            Title of the axes.
        cmap : str or matplotlib Colormap, default="viridis"
            Colormap of the heatmap.

        Returns
        -------
        display : PairwiseDiversityDisplay
        """
        return cls(
            pairwise_kl(teacher_probas),
            teacher_names=_dict_teacher_names(teacher_probas, teacher_names),
        ).plot(ax=ax, title=title, cmap=cmap)

    @classmethod
    def from_estimator(cls, estimator, X, *, ax=None, title=None, cmap="viridis"):
        """Plot the pairwise KL of a fitted multi-teacher estimator's teachers on ``X``.

        Parameters
        ----------
        estimator : AttentionMultiTeacherClassifier or distiller
            Fitted multi-teacher estimator, or a fitted distiller whose
            ``teacher_`` is one.
        X : array-like of shape (n_samples, n_features)
            Rows to compare the teachers on.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        title : str, default=None
            Title of the axes.
        cmap : str or matplotlib Colormap, default="viridis"
            Colormap of the heatmap.

        Returns
        -------
        display : PairwiseDiversityDisplay
        """
        model = _multi_teacher(estimator)
        return cls.from_predictions(
            model.teacher_proba(X),
            teacher_names=model.teacher_names_,
            ax=ax,
            title=title,
            cmap=cmap,
        )
