"""MUNGE transfer sets."""

import numpy as np
from numpy.testing import assert_array_equal

from skhpmkd._augment import munge


def test_size_and_determinism():
    X = np.random.RandomState(0).normal(size=(50, 3))
    first = munge(X, 2.5, random_state=np.random.RandomState(1))
    second = munge(X, 2.5, random_state=np.random.RandomState(1))
    assert first.shape == (125, 3)
    assert_array_equal(first, second)


def test_rows_stay_between_neighbours():
    X = np.array([[0.0, 0.0], [0.1, 10.0], [100.0, 100.0], [100.2, 90.0]])
    new = munge(X, 50, swap_probability=1.0, random_state=np.random.RandomState(0))
    # Every value is drawn around a point of the same cluster, never across.
    near_origin = new[:, 0] < 50
    assert np.all(np.abs(new[near_origin, 0]) < 2.0)
    assert np.all(np.abs(new[~near_origin, 0] - 100.1) < 2.0)


def test_without_swaps_rows_are_copies():
    X = np.random.RandomState(0).normal(size=(20, 4))
    new = munge(X, 1, swap_probability=0.0, random_state=np.random.RandomState(0))
    assert all(any(np.array_equal(row, x) for x in X) for row in new)


def test_missing_values_stay_missing_and_do_not_spread():
    X = np.random.RandomState(0).normal(size=(30, 3))
    X[::3, 1] = np.nan
    new = munge(X, 3, swap_probability=1.0, random_state=np.random.RandomState(0))
    assert np.isfinite(new[:, [0, 2]]).all()
    assert 0 < np.isnan(new[:, 1]).mean() < 0.5


def test_empty_transfer_set():
    X = np.ones((10, 2))
    assert munge(X, 0.01, random_state=np.random.RandomState(0)).shape == (0, 2)
    assert munge(X[:1], 3, random_state=np.random.RandomState(0)).shape == (0, 2)
