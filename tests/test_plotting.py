"""Display objects for teacher weights, fidelity and pairwise diversity."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import AttentionMultiTeacherClassifier, TemperatureScheduledDistiller
from skhpmkd.metrics import centroid_fidelity, individual_fidelity, pairwise_kl
from skhpmkd.plotting import (
    PairwiseDiversityDisplay,
    TeacherFidelityDisplay,
    TeacherWeightsDisplay,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(
        n_samples=150,
        n_features=6,
        n_informative=4,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    teachers = [
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("logistic", LogisticRegression()),
        ("bayes", GaussianNB()),
    ]
    multi = AttentionMultiTeacherClassifier(teachers, cv=3, random_state=0).fit(X, y)
    distiller = TemperatureScheduledDistiller(
        multi, DecisionTreeClassifier(max_depth=3), cv=3, random_state=0
    ).fit(X, y)
    return X, multi, distiller


def test_weights_display_from_estimator(fitted):
    X, multi, distiller = fitted
    display = TeacherWeightsDisplay.from_estimator(multi)
    assert_allclose(display.weights, multi.teacher_weights_)
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == multi.teacher_names_
    assert len(display.ax_.patches) == 3

    _, ax = plt.subplots()
    per_sample = TeacherWeightsDisplay.from_estimator(distiller, X, ax=ax, title="w")
    assert per_sample.ax_ is ax and per_sample.figure_ is ax.figure
    assert per_sample.weights.shape == (len(X), 3)
    assert ax.get_title() == "w"


def test_per_sample_weights_show_the_rows_beyond_the_whiskers():
    rng = np.random.RandomState(0)
    weights = rng.dirichlet([20, 20, 1], size=200)
    weights[:3] = [0.02, 0.02, 0.96]  # a few rows where teacher c takes all
    display = TeacherWeightsDisplay(weights, teacher_names=["a", "b", "c"]).plot()
    drawn = np.concatenate([line.get_ydata() for line in display.ax_.get_lines()])
    assert drawn.max() == pytest.approx(0.96)
    assert display.ax_.get_ylim()[1] >= 0.96


def test_fidelity_display_from_estimator(fitted):
    X, multi, distiller = fitted
    display = TeacherFidelityDisplay.from_estimator(distiller, X)
    probas = multi.teacher_proba(X)
    student = distiller.predict_proba(X)
    assert_allclose(display.individual_fidelity, individual_fidelity(probas, student))
    expected = centroid_fidelity(probas, student)
    assert display.centroid_fidelity == pytest.approx(expected)
    assert len(display.ax_.patches) == 3
    assert len(display.ax_.lines) == 1

    fused = TeacherFidelityDisplay.from_estimator(multi, X)
    assert_allclose(
        fused.individual_fidelity, individual_fidelity(probas, multi.predict_proba(X))
    )


def test_diversity_display_from_estimator(fitted):
    X, multi, _ = fitted
    display = PairwiseDiversityDisplay.from_estimator(multi, X, title="diversity")
    assert_allclose(display.pairwise_kl, pairwise_kl(multi.teacher_proba(X)))
    assert len(display.ax_.texts) == 9
    assert display.im_.get_array().shape == (3, 3)


def test_diversity_display_takes_a_colormap(fitted):
    X, multi, _ = fitted
    display = PairwiseDiversityDisplay.from_estimator(multi, X, cmap="magma")
    assert display.im_.get_cmap().name == "magma"


def test_dict_keys_name_the_teachers_as_in_fidelity_report():
    teachers = {"forest": [[0.5, 0.5]], "boost": [[0.9, 0.1]]}
    fidelity = TeacherFidelityDisplay.from_predictions(teachers, [[0.7, 0.3]])
    diversity = PairwiseDiversityDisplay.from_predictions(teachers)
    for display in (fidelity, diversity):
        assert display.teacher_names == ["forest", "boost"]
    labels = [label.get_text() for label in diversity.ax_.get_xticklabels()]
    assert labels == ["forest", "boost"]
    named = PairwiseDiversityDisplay.from_predictions(
        teachers, teacher_names=["a", "b"]
    )
    assert named.teacher_names == ["a", "b"]


def test_displays_reject_other_estimators(fitted):
    X, _, _ = fitted
    with pytest.raises(ValueError, match="AttentionMultiTeacherClassifier"):
        TeacherWeightsDisplay.from_estimator(LogisticRegression(), X)


@pytest.mark.parametrize(
    "from_estimator",
    [
        TeacherWeightsDisplay.from_estimator,
        TeacherFidelityDisplay.from_estimator,
        PairwiseDiversityDisplay.from_estimator,
    ],
)
@pytest.mark.parametrize(
    "estimator",
    [
        AttentionMultiTeacherClassifier(),
        TemperatureScheduledDistiller(AttentionMultiTeacherClassifier()),
    ],
    ids=["multi_teacher", "distiller"],
)
def test_displays_refuse_an_unfitted_estimator(fitted, from_estimator, estimator):
    X, _, _ = fitted
    with pytest.raises(NotFittedError):
        from_estimator(estimator, X)


def test_displays_reject_a_distiller_of_a_single_teacher(fitted):
    X, _, _ = fitted
    y = np.arange(len(X)) % 2
    distiller = TemperatureScheduledDistiller(
        LogisticRegression(), DecisionTreeClassifier(max_depth=2), cv=3
    ).fit(X, y)
    with pytest.raises(ValueError, match="whose teacher_ is a LogisticRegression"):
        TeacherWeightsDisplay.from_estimator(distiller)


def test_display_rejects_wrong_number_of_names():
    with pytest.raises(ValueError, match="2 teacher names for 3 teachers"):
        TeacherWeightsDisplay([0.2, 0.3, 0.5], teacher_names=["a", "b"]).plot()


def test_display_rejects_a_string_of_names():
    with pytest.raises(ValueError, match="teacher_names must be a list of names"):
        TeacherWeightsDisplay([0.5, 0.5], teacher_names="ab").plot()


@pytest.mark.parametrize(
    "display, message",
    [
        (TeacherWeightsDisplay(np.full((2, 2, 2), 0.5)), r"weights .* \(2, 2, 2\)"),
        (TeacherWeightsDisplay([]), r"weights .* got shape \(0,\)"),
        (TeacherFidelityDisplay(np.ones((2, 2))), r"individual_fidelity .* \(2, 2\)"),
        (
            TeacherFidelityDisplay([0.1, 0.2], centroid_fidelity=[0.1, 0.2]),
            r"centroid_fidelity must be a float .* \(2,\)",
        ),
        (PairwiseDiversityDisplay(np.ones((2, 3))), r"pairwise_kl .* \(2, 3\)"),
        (PairwiseDiversityDisplay(np.ones(3)), r"pairwise_kl .* got shape \(3,\)"),
    ],
)
def test_displays_reject_values_of_the_wrong_shape(display, message):
    with pytest.raises(ValueError, match=message):
        display.plot()


def test_from_predictions_reads_a_generator_of_teachers_once():
    teachers = [[[0.5, 0.5]], [[0.9, 0.1]]]
    fidelity = TeacherFidelityDisplay.from_predictions(
        (proba for proba in teachers), [[0.8, 0.2]]
    )
    assert_allclose(
        fidelity.individual_fidelity, individual_fidelity(teachers, [[0.8, 0.2]])
    )
    assert fidelity.centroid_fidelity == pytest.approx(
        centroid_fidelity(teachers, [[0.8, 0.2]])
    )
    diversity = PairwiseDiversityDisplay.from_predictions(p for p in teachers)
    assert_allclose(diversity.pairwise_kl, pairwise_kl(teachers))


def test_plotting_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skhpmkd\[plot\]"):
        TeacherWeightsDisplay(np.array([0.5, 0.5])).plot()


def test_module_imports_without_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "import skhpmkd.plotting; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "ok"
