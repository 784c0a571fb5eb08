"""The KD loss, its gradient and Hessian, and the boosting objective."""

import copy
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import rel_entr, softmax

from skhpmkd._objective import (
    KDObjective,
    kd_gradient_hessian,
    kd_loss,
    row_softmax,
    sigmoid,
)
from skhpmkd._schedule import AdaptiveTemperature


def _problem(n_samples=6, n_classes=4, seed=0):
    rng = np.random.RandomState(seed)
    margins = rng.normal(scale=2.0, size=(n_samples, n_classes))
    teacher = rng.normal(scale=2.0, size=(n_samples, n_classes))
    y = rng.randint(n_classes, size=n_samples)
    return margins, teacher, np.eye(n_classes)[y]


def _numeric_gradient(func, margins, step=1e-6):
    grad = np.zeros_like(margins)
    for index in np.ndindex(margins.shape):
        up, down = margins.copy(), margins.copy()
        up[index] += step
        down[index] -= step
        grad[index] = (func(up)[index[0]] - func(down)[index[0]]) / (2 * step)
    return grad


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_gradient_matches_finite_differences(temperature, alpha):
    margins, teacher, y = _problem()
    grad, _ = kd_gradient_hessian(margins, teacher, y, alpha, temperature)
    numeric = _numeric_gradient(
        lambda z: kd_loss(z, teacher, y, alpha, temperature), margins
    )
    assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
def test_diagonal_hessian_matches_finite_differences(temperature, alpha):
    margins, teacher, y = _problem()
    _, hess = kd_gradient_hessian(margins, teacher, y, alpha, temperature)

    def gradient_column(z, k):
        return kd_gradient_hessian(z, teacher, y, alpha, temperature)[0][:, k]

    step = 1e-6
    numeric = np.zeros_like(margins)
    for k in range(margins.shape[1]):
        up, down = margins.copy(), margins.copy()
        up[:, k] += step
        down[:, k] -= step
        numeric[:, k] = (gradient_column(up, k) - gradient_column(down, k)) / (2 * step)
    assert_allclose(hess, np.maximum(numeric, 1e-6), rtol=1e-5, atol=1e-7)


def test_loss_is_the_documented_formula_on_a_hand_made_row():
    # alpha T^2 KL(q^T || p^T) + (1 - alpha) CE(y, p), written out with
    # scipy: the finite-difference tests tie the gradient to this loss.
    margins = np.array([[1.0, -0.5, 0.2]])
    teacher = np.array([[0.3, 0.1, -1.0]])
    y = np.array([[0.0, 0.0, 1.0]])
    alpha, temperature = 0.7, 2.0
    q_t = softmax(teacher[0] / temperature)
    p_t = softmax(margins[0] / temperature)
    expected = alpha * temperature**2 * rel_entr(q_t, p_t).sum() - (
        1 - alpha
    ) * np.log(softmax(margins[0])[2])
    assert_allclose(kd_loss(margins, teacher, y, alpha, temperature), [expected])
    grad, _ = kd_gradient_hessian(margins, teacher, y, alpha, temperature)
    expected_grad = alpha * temperature * (p_t - q_t) + (1 - alpha) * (
        softmax(margins[0]) - y[0]
    )
    assert_allclose(grad, [expected_grad])


def test_loss_is_minimised_by_the_teacher_when_alpha_is_one():
    _, teacher, y = _problem()
    at_teacher = kd_loss(teacher, teacher, y, 1.0, 2.0)
    assert_allclose(at_teacher, 0.0, atol=1e-12)
    grad, _ = kd_gradient_hessian(teacher, teacher, y, 1.0, 2.0)
    assert_allclose(grad, 0.0, atol=1e-12)


def test_per_row_alpha():
    margins, teacher, y = _problem()
    alpha = np.array([0.0, 1.0, 0.5, 0.5, 0.2, 1.0])
    grad, _ = kd_gradient_hessian(margins, teacher, y, alpha, 2.0)
    for row, weight in enumerate(alpha):
        expected, _ = kd_gradient_hessian(
            margins[[row]], teacher[[row]], y[[row]], weight, 2.0
        )
        assert_allclose(grad[row], expected[0])


def test_binary_objective_uses_the_single_margin():
    rng = np.random.RandomState(1)
    z = rng.normal(size=8)
    teacher = np.column_stack([np.zeros(8), rng.normal(size=8)])
    y = np.eye(2)[rng.randint(2, size=8)]
    objective = KDObjective(teacher, y, np.full(8, 0.4), np.array([2.0]))
    grad, hess = objective(None, z)
    full_grad, full_hess = kd_gradient_hessian(
        np.column_stack([np.zeros(8), z]), teacher, y, 0.4, 2.0
    )
    assert grad.shape == z.shape
    assert_allclose(grad, full_grad[:, 1])
    assert_allclose(hess, full_hess[:, 1])


@pytest.mark.parametrize("n_classes", [2, 4, 7, 8, 10])
def test_row_softmax_is_scipy_softmax(n_classes):
    rng = np.random.RandomState(n_classes)
    x = rng.normal(scale=4.0, size=(50, n_classes))
    x[0], x[1, 0], x[2] = 800.0, -800.0, -0.0
    with np.errstate(over="raise", invalid="raise"):
        p = row_softmax(x)
    assert_allclose(p, softmax(x, axis=1), rtol=1e-15, atol=0)
    assert_allclose(p.sum(axis=1), 1.0)


def test_sigmoid_is_the_softmax_of_zero_and_the_margin():
    z = np.array([-800.0, -30.0, -1.5, -0.0, 0.0, 1e-300, 2.0, 40.0, 800.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        p = sigmoid(z)
    expected = softmax(np.column_stack([np.zeros_like(z), z]), axis=1)[:, 1]
    assert_allclose(p, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_binary_objective_matches_two_columns_with_weights_and_extremes(temperature):
    rng = np.random.RandomState(2)
    z = np.concatenate([rng.normal(scale=3.0, size=20), [-700.0, 700.0]])
    teacher = rng.normal(size=(22, 2))
    y = np.eye(2)[rng.randint(2, size=22)]
    y[::5] = 0.0
    alpha = np.where(y.sum(axis=1) == 0, 1.0, 0.3)
    weight = rng.uniform(0.5, 2.0, size=22)
    objective = KDObjective(teacher, y, alpha, np.array([temperature]))
    with np.errstate(over="raise"):
        grad, hess = objective(None, z, sample_weight=weight)
    full_grad, full_hess = kd_gradient_hessian(
        np.column_stack([np.zeros(22), z]), teacher, y, alpha, temperature
    )
    assert np.all(np.isfinite(grad)) and np.all(hess > 0)
    assert_allclose(grad, full_grad[:, 1] * weight, rtol=1e-12, atol=1e-15)
    assert_allclose(hess, full_hess[:, 1] * weight, rtol=1e-12, atol=1e-15)


def test_binary_adaptive_objective_measures_the_two_class_kl():
    rng = np.random.RandomState(3)
    teacher = np.column_stack([np.zeros(10), rng.normal(scale=2.0, size=10)])
    y = np.zeros((10, 2))
    binary = KDObjective(teacher, y, np.ones(10), AdaptiveTemperature(4.0, 1.0))
    columns = KDObjective(teacher, y, np.ones(10), AdaptiveTemperature(4.0, 1.0))
    for z in (np.zeros(10), 0.5 * teacher[:, 1], teacher[:, 1]):
        binary(None, z)
        columns(None, np.column_stack([np.zeros(10), z]))
    assert binary.temperatures_ == pytest.approx(columns.temperatures_)
    assert binary.temperatures_[-1] == pytest.approx(1.0)


def test_objective_follows_its_schedule_and_pickles():
    margins, teacher, y = _problem()
    objective = KDObjective(teacher, y, np.full(6, 0.5), np.array([3.0, 2.0, 1.0]))
    for _ in range(5):
        objective(None, margins)
    assert objective.temperatures_ == [3.0, 2.0, 1.0, 1.0, 1.0]
    restored = pickle.loads(pickle.dumps(objective))
    assert restored.temperatures_ == objective.temperatures_
    assert copy.deepcopy(objective) is objective


def test_objective_gradients_match_the_loss_at_each_round_temperature():
    margins, teacher, y = _problem()
    alpha = np.array([0.0, 1.0, 0.5, 0.5, 0.2, 1.0])
    schedule = np.array([3.0, 3.0, 1.0, 0.5, 0.5])
    objective = KDObjective(teacher, y, alpha, schedule)
    for round_, temperature in enumerate(schedule):
        step = margins + 0.1 * round_
        grad, hess = objective(None, step)
        expected, expected_hess = kd_gradient_hessian(
            step, teacher, y, alpha, temperature
        )
        assert_allclose(grad, expected)
        assert_allclose(hess, expected_hess)


def test_objective_weights_rows():
    margins, teacher, y = _problem()
    objective = KDObjective(teacher, y, np.full(6, 0.5), np.array([2.0]))
    weight = np.arange(1.0, 7.0)
    grad, hess = objective(None, margins, sample_weight=weight)
    plain, plain_hess = kd_gradient_hessian(margins, teacher, y, 0.5, 2.0)
    assert_allclose(grad, plain * weight[:, None])
    assert_allclose(hess, plain_hess * weight[:, None])


def test_adaptive_objective_anneals_as_student_approaches_teacher():
    _, teacher, y = _problem()
    objective = KDObjective(teacher, y, np.full(6, 1.0), AdaptiveTemperature(4.0, 1.0))
    far = np.zeros_like(teacher)
    objective(None, far)
    halfway = np.log(0.5 * softmax(teacher, axis=1) + 0.5 / teacher.shape[1])
    objective(None, halfway)
    objective(None, teacher)
    first, middle, last = objective.temperatures_
    assert first == 4.0
    assert 1.0 < middle < 4.0
    assert last == pytest.approx(1.0)


@pytest.mark.parametrize("binary", [False, True])
def test_adaptive_objective_weighs_rows_like_copies(binary):
    # A row of weight 2 counts twice in the KL that sets the temperature, and
    # a row of weight 0 not at all.
    rng = np.random.RandomState(4)
    n_classes = 2 if binary else 3
    teacher = rng.normal(scale=2.0, size=(8, n_classes))
    if binary:
        teacher[:, 0] = 0.0
    y = np.zeros_like(teacher)
    weight = np.array([0, 1, 2, 3, 1, 0, 2, 1])
    copies = np.repeat(np.arange(8), weight)
    weighted = KDObjective(teacher, y, np.ones(8), AdaptiveTemperature(4.0, 1.0))
    repeated = KDObjective(
        teacher[copies], y[copies], np.ones(len(copies)), AdaptiveTemperature(4.0, 1.0)
    )
    for scale in (0.0, 0.3, 0.8):
        margins = scale * teacher + rng.normal(scale=0.1, size=teacher.shape)
        if binary:
            weighted(None, margins[:, 1], sample_weight=weight.astype(float))
            repeated(None, margins[copies, 1])
        else:
            weighted(None, margins, sample_weight=weight.astype(float))
            repeated(None, margins[copies])
    assert weighted.temperatures_ == pytest.approx(repeated.temperatures_)
    assert len(set(weighted.temperatures_)) == 3
