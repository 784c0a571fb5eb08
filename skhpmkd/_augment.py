"""MUNGE-style transfer set: new rows the teacher labels for the student."""

import numpy as np
from sklearn.neighbors import NearestNeighbors


def munge(X, factor, *, swap_probability=0.5, spread=1.0, random_state):
    """Make ``round(factor * n_samples)`` synthetic rows near the data.

    Each synthetic row starts from a random training row ``x``; for each
    feature, with probability ``swap_probability``, its value is replaced by a
    draw from ``Normal(x_nn, |x - x_nn| / spread)`` where ``x_nn`` is the
    nearest neighbour of ``x`` (Bucila, Caruana and Niculescu-Mizil, 2006).
    Missing values stay missing.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows (numeric; NaN allowed).
    factor : float
        Size of the transfer set as a multiple of ``n_samples``.
    swap_probability : float, default=0.5
        Chance that a feature takes the perturbed neighbour value.
    spread : float, default=1.0
        Divides the local scale of the Gaussian noise.
    random_state : numpy.random.RandomState
        Source of randomness.

    Returns
    -------
    X_new : ndarray of shape (round(factor * n_samples), n_features)
    """
    X = np.asarray(X, dtype=float)
    n_samples = X.shape[0]
    n_new = int(round(factor * n_samples))
    if n_new == 0 or n_samples < 2:
        return np.empty((0, X.shape[1]))
    filled = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    filled = np.nan_to_num(filled)
    scale = filled.std(axis=0)
    scaled = filled / np.where(scale > 0, scale, 1.0)
    neighbours = NearestNeighbors(n_neighbors=2).fit(scaled)
    nearest = neighbours.kneighbors(scaled, return_distance=False)[:, 1]

    origin = random_state.randint(n_samples, size=n_new)
    base = X[origin]
    partner = X[nearest[origin]]
    noise = np.abs(base - partner) / spread
    draws = random_state.normal(partner, np.nan_to_num(noise))
    swap = random_state.uniform(size=base.shape) < swap_probability
    swap &= ~np.isnan(base) & ~np.isnan(partner)
    return np.where(swap, draws, base)
