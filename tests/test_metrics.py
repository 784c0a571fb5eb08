"""Fidelity and diversity metrics against hand-computed values."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skhpmkd.metrics import (
    centroid,
    centroid_fidelity,
    fidelity_report,
    individual_fidelity,
    kl_divergence,
    pairwise_kl,
    teacher_diversity,
    top1_agreement,
)

# Two rows, three classes, three teachers and a student.
T1 = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
T2 = np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4]])
T3 = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
S = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]])
TEACHERS = [T1, T2, T3]


def _kl_row(p, q):
    return sum(pk * np.log(pk / qk) for pk, qk in zip(p, q) if pk > 0)


def test_kl_divergence_by_hand():
    expected = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    assert kl_divergence([[0.5, 0.5]], [[0.9, 0.1]]) == pytest.approx(expected)
    assert kl_divergence(S, S) == pytest.approx(0.0)


def test_kl_divergence_sample_weight():
    first, second = _kl_row(T1[0], S[0]), _kl_row(T1[1], S[1])
    got = kl_divergence(T1, S, sample_weight=[3, 1])
    assert got == pytest.approx((3 * first + second) / 4)


def test_individual_fidelity_by_hand():
    expected = [np.mean([_kl_row(t[i], S[i]) for i in range(2)]) for t in TEACHERS]
    assert_allclose(individual_fidelity(TEACHERS, S), expected)


def test_centroid_and_centroid_fidelity_by_hand():
    center = (T1 + T2 + T3) / 3
    assert_allclose(centroid(TEACHERS), center)
    expected = np.mean([_kl_row(center[i], S[i]) for i in range(2)])
    assert centroid_fidelity(TEACHERS, S) == pytest.approx(expected)


def test_centroid_per_sample_weights():
    weights = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    expected = np.vstack([T1[0], 0.5 * T2[1] + 0.5 * T3[1]])
    assert_allclose(centroid(TEACHERS, weights=weights), expected)
    with pytest.raises(ValueError, match="sum to 1"):
        centroid(TEACHERS, weights=[0.5, 0.5, 0.5])


def test_teacher_diversity_by_hand():
    assert_allclose(teacher_diversity([[[1.0, 0.0]], [[0.0, 1.0]]]), [np.log(2)] * 2)
    center = (T1 + T2 + T3) / 3
    expected = [np.mean([_kl_row(t[i], center[i]) for i in range(2)]) for t in TEACHERS]
    assert_allclose(teacher_diversity(TEACHERS), expected)


def test_pairwise_kl_by_hand():
    matrix = pairwise_kl(TEACHERS[:2])
    assert matrix.shape == (2, 2)
    assert_allclose(np.diag(matrix), 0.0)
    assert matrix[0, 1] == pytest.approx(
        np.mean([_kl_row(T1[i], T2[i]) for i in range(2)])
    )
    assert matrix[1, 0] == pytest.approx(
        np.mean([_kl_row(T2[i], T1[i]) for i in range(2)])
    )
    weighted = pairwise_kl(TEACHERS[:2], sample_weight=[1, 0])
    assert weighted[0, 1] == pytest.approx(_kl_row(T1[0], T2[0]))


def test_pairwise_kl_zero_probability_in_reference_is_finite():
    # T3 puts no mass on class 2 of row 0: those terms contribute nothing.
    assert np.isfinite(pairwise_kl([T3, T1])).all()


def test_top1_agreement_by_hand():
    assert top1_agreement(T1, S) == 1.0
    # T2's second row peaks at class 2, the student's at class 1.
    assert top1_agreement(T2, S) == 0.5
    assert top1_agreement(T2, S, sample_weight=[1, 0]) == 1.0
    assert top1_agreement(T2, S, sample_weight=[0, 1]) == 0.0


def test_fidelity_report_structure_and_values():
    pd = pytest.importorskip("pandas")
    report = fidelity_report(dict(zip(["a", "b", "c"], TEACHERS)), S)
    teachers = report["teachers"]
    assert teachers["name"] == ["a", "b", "c"]
    assert_allclose(teachers["individual_fidelity"], individual_fidelity(TEACHERS, S))
    assert_allclose(teachers["teacher_diversity"], teacher_diversity(TEACHERS))
    assert teachers["top1_agreement"] == [1.0, 0.5, 1.0]
    assert report["centroid_fidelity"] == pytest.approx(centroid_fidelity(TEACHERS, S))
    assert report["mean_individual_fidelity"] == pytest.approx(
        np.mean(teachers["individual_fidelity"])
    )
    assert_allclose(report["pairwise_kl"], pairwise_kl(TEACHERS))
    frame = pd.DataFrame(teachers)
    assert frame.shape == (3, 4)


def test_fidelity_report_default_names():
    report = fidelity_report(TEACHERS, S)
    assert report["teachers"]["name"] == ["teacher_0", "teacher_1", "teacher_2"]


@pytest.mark.parametrize(
    "teachers, student, message",
    [
        ([T1, T2[:, :2]], S, "same shape"),
        ([], S, "at least one teacher"),
        ([T1 * 2], S, "probability rows"),
        ([T1, T2 * 2], S, "Teacher 1 must hold probability rows"),
        ([T1], S[:, :2], "same number of classes"),
    ],
)
def test_metrics_reject_bad_input(teachers, student, message):
    with pytest.raises(ValueError, match=message):
        individual_fidelity(teachers, student)


def test_a_one_dimensional_probability_vector_is_named_and_explained():
    # Not check_array's advice to reshape(-1, 1), which gives a second error.
    message = r"p_true must be probability rows of shape \(n_samples, n_classes\)"
    with pytest.raises(ValueError, match=message):
        kl_divergence([0.9, 0.2, 0.6], [[0.8, 0.2]] * 3)
    with pytest.raises(ValueError, match="p_pred must be probability rows"):
        top1_agreement(S, S[:, 0])
    with pytest.raises(ValueError, match="Teacher 1 must be probability rows"):
        centroid([T1, T1[:, 0]])


@pytest.mark.parametrize(
    "weights, message",
    [
        ([2.0, 1.0, 1.0], "weights must sum to 1 over the teachers; got a sum of 4.0"),
        ([1.5, -0.5, 0.0], "weights must be non-negative; got -0.5"),
    ],
)
def test_centroid_weights_errors_name_the_value(weights, message):
    with pytest.raises(ValueError, match=message):
        centroid(TEACHERS, weights=weights)
    with pytest.raises(ValueError, match=message):
        teacher_diversity(TEACHERS, weights=weights)


def test_fidelity_report_rejects_wrong_number_of_names():
    with pytest.raises(ValueError, match="2 teacher names for 3 teachers"):
        fidelity_report(TEACHERS, S, teacher_names=["a", "b"])


@pytest.mark.parametrize("names, teachers", [("abc", TEACHERS), ("a", TEACHERS[:1])])
def test_fidelity_report_rejects_a_string_of_names(names, teachers):
    with pytest.raises(ValueError, match="teacher_names must be a list of names"):
        fidelity_report(teachers, S, teacher_names=names)


def test_fidelity_report_accepts_a_generator_of_teachers():
    report = fidelity_report((proba for proba in TEACHERS), S)
    expected = fidelity_report(TEACHERS, S)
    assert report["teachers"] == expected["teachers"]
    assert report["centroid_fidelity"] == pytest.approx(expected["centroid_fidelity"])
    assert_allclose(report["pairwise_kl"], expected["pairwise_kl"])


def test_zero_predicted_probability_is_clipped_as_documented():
    # KL would be infinite; the prediction is clipped at 1e-12.
    kl = kl_divergence([[0.5, 0.5]], [[1.0, 0.0]])
    assert kl == pytest.approx(0.5 * np.log(0.5 / 1.0) + 0.5 * np.log(0.5 / 1e-12))


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        ([1.0], "sample_weight.shape"),
        ([1.0, -1.0], "Negative values in data"),
        ([1.0, np.nan], "NaN"),
        ([0.0, 0.0], "sum to zero|all zero|zero"),
    ],
)
@pytest.mark.parametrize(
    "metric",
    [
        lambda w: kl_divergence(T1, S, sample_weight=w),
        lambda w: top1_agreement(T1, S, sample_weight=w),
        lambda w: pairwise_kl(TEACHERS, sample_weight=w),
        lambda w: fidelity_report(TEACHERS, S, sample_weight=w),
    ],
)
def test_bad_sample_weight_is_refused(metric, sample_weight, message):
    with pytest.raises(ValueError, match=message):
        metric(sample_weight)


def test_centroid_weights_of_the_wrong_shape_are_named():
    with pytest.raises(ValueError, match=r"shape \(3,\) or \(2, 3\).*got shape \(2,\)"):
        centroid(TEACHERS, weights=[0.5, 0.5])


@pytest.mark.parametrize("names", [b"abc", bytearray(b"abc")])
def test_fidelity_report_rejects_bytes_of_names(names):
    # Bytes iterate as integers: b"abc" would name the teachers 97, 98 and 99.
    with pytest.raises(ValueError, match="teacher_names must be a list of names"):
        fidelity_report(TEACHERS, S, teacher_names=names)


TEACHER_METRICS = [
    centroid,
    pairwise_kl,
    teacher_diversity,
    lambda teachers: individual_fidelity(teachers, S),
    lambda teachers: centroid_fidelity(teachers, S),
    lambda teachers: fidelity_report(teachers, S)["pairwise_kl"],
]


@pytest.mark.parametrize("metric", TEACHER_METRICS)
def test_one_teachers_array_is_refused_where_a_list_is_expected(metric):
    message = (
        r"teacher_probas must be a list of the teachers' probability arrays, one "
        r"per teacher; got one array of shape \(2, 3\)\. Wrap it in a list"
    )
    with pytest.raises(ValueError, match=message):
        metric(T1)
    with pytest.raises(ValueError, match=message):
        metric(np.array([[1, 0, 0], [0, 1, 0]]))
    # Nested lists, the form of the examples, got scikit-learn's advice to
    # reshape a 1-D array.
    with pytest.raises(ValueError, match=message):
        metric(T1.tolist())
    # A single teacher in a list, and a (n_teachers, n_samples, n_classes)
    # array, are fine.
    assert_allclose(metric([T1]), metric([T1.tolist()]))
    assert_allclose(metric(np.stack(TEACHERS)), metric(TEACHERS))


@pytest.mark.parametrize("metric", TEACHER_METRICS)
def test_one_teachers_dataframe_is_refused_where_a_list_is_expected(metric):
    pd = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match=r"got one array of shape \(2, 3\)"):
        metric(pd.DataFrame(T1))
    assert_allclose(metric([pd.DataFrame(T1)]), metric([T1]))
