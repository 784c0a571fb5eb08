"""Temperature schedules."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skhpmkd._schedule import AdaptiveTemperature, make_schedule, temperature_schedule


def test_constant():
    assert_allclose(temperature_schedule("constant", 2.5, 1.0, 4), [2.5] * 4)


def test_linear_goes_from_start_to_final():
    assert_allclose(temperature_schedule("linear", 3.0, 1.0, 5), [3, 2.5, 2, 1.5, 1])


def test_cosine_is_monotone_with_fixed_ends():
    temps = temperature_schedule("cosine", 4.0, 1.0, 11)
    assert temps[0] == pytest.approx(4.0)
    assert temps[-1] == pytest.approx(1.0)
    assert temps[5] == pytest.approx(2.5)
    assert np.all(np.diff(temps) < 0)


def test_single_round():
    assert_allclose(temperature_schedule("cosine", 4.0, 1.0, 1), [4.0])


def test_unknown_fixed_schedule():
    with pytest.raises(ValueError, match="'warm'"):
        temperature_schedule("warm", 2.0, 1.0, 3)


def test_adaptive_rises_when_the_gap_grows():
    schedule = make_schedule("adaptive", 3.0, 1.0, 10)
    assert isinstance(schedule, AdaptiveTemperature)
    assert schedule.next(1.0) == 3.0
    assert schedule.next(0.5) == pytest.approx(2.0)
    assert schedule.next(0.8) == pytest.approx(2.6)
    assert schedule.next(2.0) == 3.0
