"""Transfer sets: interpolation between neighbours and MUNGE."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from skhpmkd import (
    HPMKDClassifier,
    TemperatureScheduledDistiller,
    _augment,
    _distiller,
    _hpmkd,
)
from skhpmkd._frames import declared_codes
from skhpmkd._augment import interpolate, munge, transfer_rows


@pytest.mark.parametrize("generator", [interpolate, munge])
def test_size_and_determinism(generator):
    X = np.random.RandomState(0).normal(size=(50, 3))
    first = generator(X, 2.5, random_state=np.random.RandomState(1))
    second = generator(X, 2.5, random_state=np.random.RandomState(1))
    assert first.shape == (125, 3)
    assert_array_equal(first, second)


def test_interpolated_rows_lie_between_a_row_and_a_neighbour():
    X = np.random.RandomState(0).normal(size=(15, 3))
    new = interpolate(X, 2, n_neighbors=2, random_state=np.random.RandomState(0))
    for row in new:
        on_segment = []
        for a in X:
            for b in X:
                direction = b - a
                if not direction.any():
                    continue
                weight = np.dot(row - a, direction) / np.dot(direction, direction)
                on_segment.append(
                    0 <= weight <= 1 and np.allclose(a + weight * direction, row)
                )
        assert any(on_segment)


def test_interpolation_stays_within_clusters():
    rng = np.random.RandomState(0)
    X = np.vstack(
        [rng.normal(0, 0.1, size=(20, 2)), rng.normal(100, 0.1, size=(20, 2))]
    )
    new = interpolate(X, 10, random_state=np.random.RandomState(0))
    assert np.all((np.abs(new) < 1) | (np.abs(new - 100) < 1))


def test_code_columns_keep_observed_values():
    rng = np.random.RandomState(0)
    codes = rng.randint(0, 4, size=60).astype(float)
    X = np.column_stack([rng.normal(size=60), codes, rng.randint(0, 1000, size=60)])
    new = interpolate(X, 5, random_state=np.random.RandomState(0))
    assert set(new[:, 1]) <= set(codes)
    # Many distinct integers are a quantity, not codes: they are interpolated.
    assert not np.all(np.mod(new[:, 2], 1) == 0)


def test_interpolation_does_not_spread_missing_values():
    X = np.random.RandomState(0).normal(size=(30, 3))
    X[::3, 1] = np.nan
    new = interpolate(X, 3, random_state=np.random.RandomState(0))
    assert np.isfinite(new[:, [0, 2]]).all()
    assert 0 < np.isnan(new[:, 1]).mean() < 0.5


def test_munge_rows_stay_between_neighbours():
    X = np.array([[0.0, 0.0], [0.1, 10.0], [100.0, 100.0], [100.2, 90.0]])
    new = munge(X, 50, swap_probability=1.0, random_state=np.random.RandomState(0))
    # Every value is drawn around a point of the same cluster, never across.
    near_origin = new[:, 0] < 50
    assert np.all(np.abs(new[near_origin, 0]) < 2.0)
    assert np.all(np.abs(new[~near_origin, 0] - 100.1) < 2.0)


def test_munge_without_swaps_rows_are_copies():
    X = np.random.RandomState(0).normal(size=(20, 4))
    new = munge(X, 1, swap_probability=0.0, random_state=np.random.RandomState(0))
    assert all(any(np.array_equal(row, x) for x in X) for row in new)


def test_munge_missing_values_stay_missing_and_do_not_spread():
    X = np.random.RandomState(0).normal(size=(30, 3))
    X[::3, 1] = np.nan
    new = munge(X, 3, swap_probability=1.0, random_state=np.random.RandomState(0))
    assert np.isfinite(new[:, [0, 2]]).all()
    assert 0 < np.isnan(new[:, 1]).mean() < 0.5


@pytest.mark.parametrize("generator", [interpolate, munge])
def test_empty_transfer_set(generator):
    X = np.ones((10, 2))
    assert generator(X, 0.01, random_state=np.random.RandomState(0)).shape == (0, 2)
    assert generator(X[:1], 3, random_state=np.random.RandomState(0)).shape == (0, 2)


def test_two_rows_are_enough_to_interpolate():
    X = np.array([[0.5, 1.5], [2.5, 3.5]])
    new = interpolate(X, 4, random_state=np.random.RandomState(0))
    assert new.shape == (8, 2)
    assert np.all((new >= 0.5) & (new <= 3.5))


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="'smote'"):
        transfer_rows(np.ones((5, 2)), 1.0, "smote", np.random.RandomState(0))


def _nearest_by_definition(X, n_neighbors):
    """Every row's nearest other rows, from all pairwise distances."""
    scaled = (X - X.mean(axis=0)) / X.std(axis=0)
    distances = ((scaled[:, None, :] - scaled[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(distances, np.inf)
    return np.argsort(distances, axis=1)[:, :n_neighbors]


def test_interpolation_matches_its_definition():
    X = np.random.RandomState(0).normal(size=(40, 3))
    new = interpolate(X, 1.5, n_neighbors=3, random_state=np.random.RandomState(7))

    rng = np.random.RandomState(7)
    nearest = _nearest_by_definition(X, 3)
    origin = rng.randint(40, size=60)
    partner = nearest[origin, rng.randint(3, size=60)]
    weight = rng.uniform(size=(60, 1))
    expected = X[origin] + weight * (X[partner] - X[origin])
    np.testing.assert_allclose(new, expected, rtol=0, atol=1e-12)


def test_munge_matches_its_definition():
    X = np.random.RandomState(0).normal(size=(40, 3))
    new = munge(X, 1.5, random_state=np.random.RandomState(7))

    rng = np.random.RandomState(7)
    nearest = _nearest_by_definition(X, 1)[:, 0]
    origin = rng.randint(40, size=60)
    base, partner = X[origin], X[nearest[origin]]
    draws = rng.normal(partner, np.abs(base - partner))
    swap = rng.uniform(size=base.shape) < 0.5
    np.testing.assert_allclose(new, np.where(swap, draws, base), rtol=0, atol=1e-12)


def test_munge_swaps_codes_and_perturbs_the_rest():
    # A flag and a code column keep values the data have; the continuous
    # column still gets new values.
    rng = np.random.RandomState(0)
    X = np.column_stack(
        [rng.randint(0, 2, 80), rng.randint(0, 5, 80), rng.normal(size=80)]
    ).astype(float)
    new = munge(X, 3, random_state=np.random.RandomState(1))
    for column in (0, 1):
        assert set(new[:, column]) <= set(X[:, column])
    assert not np.isin(new[:, 2], X[:, 2]).all()


@pytest.mark.parametrize("generator", [interpolate, munge])
def test_only_the_origin_rows_are_searched(generator, monkeypatch):
    import skhpmkd._augment as augment

    queried = []

    class Recording(augment.NearestNeighbors):
        def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
            queried.append(len(X))
            return super().kneighbors(X, n_neighbors, return_distance)

    monkeypatch.setattr(augment, "NearestNeighbors", Recording)
    X = np.random.RandomState(0).normal(size=(500, 4))
    new = generator(X, 0.05, random_state=np.random.RandomState(0))
    assert new.shape == (25, 4)
    assert len(queried) == 1 and queried[0] <= 25


def test_an_all_missing_column_warns_nothing():
    X = np.random.RandomState(0).rand(60, 3)
    X[:, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rng = np.random.RandomState(0)
        rows = transfer_rows(X, 1.0, "interpolate", random_state=rng)
    assert rows.shape == (60, 3)


class _UnfittableTeacher(ClassifierMixin, BaseEstimator):
    """A teacher whose fit must never be reached."""

    def fit(self, X, y):
        raise AssertionError("the teacher was fitted before augment was refused")

    def predict_proba(self, X):  # pragma: no cover - never fitted
        raise AssertionError


@pytest.mark.parametrize(
    "make",
    [
        lambda augment: HPMKDClassifier(_UnfittableTeacher(), augment=augment),
        lambda augment: TemperatureScheduledDistiller(
            _UnfittableTeacher(), LogisticRegression(), augment=augment
        ),
    ],
    ids=["hpmkd", "distiller"],
)
def test_a_transfer_set_larger_than_memory_is_refused_before_the_teacher(make):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=r"augment=1e\+12 asks for 1\.5e\+14 transfer"):
        make(1e12).fit(X, y)


def test_transfer_size_is_measured_against_the_machine(monkeypatch):
    monkeypatch.setattr(_augment, "_physical_memory", lambda: 2**30)
    # 1,000 rows x (4 features + 3 classes) x 8 bytes = 56,000 bytes per unit.
    _augment.check_transfer_size(1_000, 4, 3, 19_000.0)
    with pytest.raises(ValueError, match=r"more than this machine's 1 GiB"):
        _augment.check_transfer_size(1_000, 4, 3, 20_000.0)
    # Where the system does not say, nothing is refused.
    monkeypatch.setattr(_augment, "_physical_memory", lambda: None)
    _augment.check_transfer_size(1_000, 4, 3, 1e12)


@pytest.mark.parametrize("generator", [interpolate, munge])
def test_rows_of_weight_zero_do_not_grow_the_transfer_set(generator):
    # augment is a multiple of the rows that count: those of positive weight.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    padded = np.vstack([X, rng.normal(size=(200, 3))])
    weights = np.r_[np.ones(40), np.zeros(200)]
    alone = generator(X, 2, random_state=np.random.RandomState(3))
    with_zeros = generator(
        padded, 2, random_state=np.random.RandomState(3), sample_weight=weights
    )
    assert_array_equal(with_zeros, alone)


def test_rows_of_weight_zero_do_not_grow_hpmkds_transfer_sets(monkeypatch):
    sizes = []

    def counted(*args, **kwargs):
        rows = transfer_rows(*args, **kwargs)
        sizes.append(len(rows))
        return rows

    monkeypatch.setattr(_hpmkd, "transfer_rows", counted)
    X, y = load_iris(return_X_y=True)
    weights = np.tile([1.0, 0.0, 0.0], 50)
    params = dict(students=["dt"], budget=1, augment=2, cv=3, random_state=0)
    HPMKDClassifier(LogisticRegression(), **params).fit(X[::3], y[::3])
    alone, sizes[:] = list(sizes), []
    HPMKDClassifier(LogisticRegression(), **params).fit(X, y, sample_weight=weights)
    # The refit draws around every row of positive weight; the search around
    # those of its fit rows, a share that depends on its split.
    assert sizes[-1] == alone[-1] == 2 * 50
    assert sizes[0] <= 2 * 50


def test_a_row_of_codes_alone_is_a_new_mix_of_its_two_rows():
    # One draw per row made every such row a copy of a training row, whose
    # target the teacher had learnt in its fit.
    rng = np.random.RandomState(0)
    X = rng.randint(0, 8, size=(200, 12)).astype(float)
    new = interpolate(X, 3, random_state=np.random.RandomState(0))
    copies = (new[:, None, :] == X[None, :, :]).all(axis=2).any(axis=1)
    # A row is a copy when every column differing between its two rows takes
    # the same side, with chance 2 / (d + 1) for d such columns.
    assert copies.mean() < 0.4
    for column in range(X.shape[1]):
        assert set(new[:, column]) <= set(X[:, column])


@pytest.mark.parametrize(
    "X_unlabeled, message",
    [
        (np.zeros((3, 2)), "X_unlabeled has 2 features, but X has 4"),
        (np.zeros(4), "X_unlabeled, the third argument of fit, must be 2-D"),
        (np.full((2, 4), np.inf), "X_unlabeled: Input X_unlabeled contains infinity"),
        (np.zeros((0, 4)), "X_unlabeled: Found array with 0 sample"),
    ],
    ids=["width", "1-D", "inf", "empty"],
)
def test_a_bad_x_unlabeled_is_refused_before_the_teacher(X_unlabeled, message):
    X, y = load_iris(return_X_y=True)
    distiller = TemperatureScheduledDistiller(
        _UnfittableTeacher(), LogisticRegression()
    )
    with pytest.raises(ValueError, match=message):
        distiller.fit(X, y, X_unlabeled=X_unlabeled)


def test_codes_follow_the_nearer_row_when_the_other_columns_differ():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=80), rng.randint(0, 3, size=(80, 4))])
    new = interpolate(X, 3, random_state=np.random.RandomState(1))
    rng = np.random.RandomState(1)
    origin = rng.randint(80, size=240)
    partner = _nearest_by_definition(X, 5)[origin, rng.randint(5, size=240)]
    weight = rng.uniform(size=(240, 1))
    nearer = np.where(weight < 0.5, X[origin], X[partner])
    assert_array_equal(new[:, 1:], nearer[:, 1:])


def _many_levels_frame(n_rows=300, n_levels=40):
    """A float column and a category column of more levels than look like codes."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    levels = rng.randint(0, n_levels, size=n_rows)
    X = pd.DataFrame(
        {
            "x": rng.normal(size=n_rows),
            "level": pd.Categorical(levels),
            "flag": rng.rand(n_rows) < 0.5,
        }
    )
    y = (X["x"] + (levels % 2) > 0.5).astype(int).to_numpy()
    return X, y, levels


def test_a_frames_category_and_boolean_columns_are_declared_codes():
    X, _, levels = _many_levels_frame()
    assert_array_equal(declared_codes(X), [False, True, True])
    assert declared_codes(X.to_numpy(dtype=float)) is None
    # Declared, the 40 levels stay levels; undeclared, they are interpolated.
    values = X.to_numpy(dtype=float)
    rng = np.random.RandomState(0)
    kept = interpolate(values, 3, random_state=rng, codes=declared_codes(X))
    assert set(kept[:, 1]) <= set(levels)
    mixed = interpolate(values, 3, random_state=np.random.RandomState(0))
    assert not set(mixed[:, 1]) <= set(levels)


@pytest.mark.parametrize("estimator", ["distiller", "hpmkd"])
def test_estimators_keep_a_frames_category_columns_as_codes(estimator, monkeypatch):
    X, y, levels = _many_levels_frame()
    module = _distiller if estimator == "distiller" else _hpmkd
    drawn = []

    def kept(*args, **kwargs):
        rows = transfer_rows(*args, **kwargs)
        drawn.append(rows)
        return rows

    monkeypatch.setattr(module, "transfer_rows", kept)
    if estimator == "distiller":
        model = TemperatureScheduledDistiller(
            LogisticRegression(), LogisticRegression(), augment=2, random_state=0
        )
    else:
        model = HPMKDClassifier(
            LogisticRegression(), students=["dt"], budget=1, augment=2, cv=3
        )
    model.fit(X, y)
    assert drawn and all(set(rows[:, 1]) <= set(levels) for rows in drawn)
