"""Transfer sets: new rows near the training rows, for the teacher to label.

Two generators. ``interpolate`` (the default) puts each new row on the
segment between a training row and one of its nearest neighbours, so the rows
stay where the data lie; ``munge`` is the perturbation of Bucila, Caruana and
Niculescu-Mizil (2006). On the benchmark data, ``HPMKDClassifier``'s
students were more accurate with interpolated rows than with MUNGE rows (see
``benchmarks/RESULTS.md``).
"""

import os
import warnings

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ._sample_weight import positive_rows

AUGMENT_METHODS = ("interpolate", "munge")
MAX_DISCRETE_VALUES = 32


def _neighbours(X, n_neighbors, rows):
    """Indices of the ``n_neighbors`` nearest other rows of the rows ``rows``.

    Distances are computed on standardised columns with missing values
    replaced by the column mean. Only the rows that are asked for are
    searched: a transfer set smaller than ``X`` starts from a fraction of its
    rows, and on 100,000 rows x 20 features the brute-force search of all of
    them took almost half of ``HPMKDClassifier``'s fit time.
    """
    with warnings.catch_warnings():
        # An all-missing column has no mean ("Mean of empty slice"): it is 0.
        warnings.simplefilter("ignore", RuntimeWarning)
        filled = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    filled = np.nan_to_num(filled)
    scale = filled.std(axis=0)
    scaled = filled / np.where(scale > 0, scale, 1.0)
    search = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(scaled)
    return search.kneighbors(scaled[rows], return_distance=False)[:, 1:]


def _origins_and_neighbours(X, n_new, n_neighbors, random_state, sample_weight=None):
    """Draw ``n_new`` origin rows; return them and their nearest neighbours.

    Origins are drawn uniformly, or in proportion to ``sample_weight`` (all
    positive; equal weights draw as no weights do). Returns the origins
    (indices into ``X``) and, for each origin, the indices of its
    ``min(n_neighbors, n_samples - 1)`` nearest other rows.
    """
    if sample_weight is None or np.ptp(sample_weight) == 0:
        origin = random_state.randint(len(X), size=n_new)
    else:
        share = sample_weight / np.sum(sample_weight)
        origin = random_state.choice(len(X), size=n_new, p=share)
    rows, position = np.unique(origin, return_inverse=True)
    n_neighbors = min(n_neighbors, len(X) - 1)
    return origin, _neighbours(X, n_neighbors, rows)[position]


def _is_discrete(column):
    """Whether a column looks like codes: few distinct values, all integers."""
    values = np.unique(column[~np.isnan(column)])
    return len(values) <= MAX_DISCRETE_VALUES and np.all(np.mod(values, 1) == 0)


def _discrete_columns(X, codes=None):
    """Mask of the columns of ``X`` that look like codes (see :func:`_is_discrete`)
    or that ``codes``, a mask, declares to be."""
    discrete = np.array([_is_discrete(column) for column in X.T], dtype=bool)
    return discrete if codes is None else discrete | np.asarray(codes, dtype=bool)


def _n_new(n_rows, factor):
    """Number of transfer rows drawn around ``n_rows`` rows."""
    return 0 if n_rows < 2 else int(round(factor * n_rows))


def n_weighted(n_rows, sample_weight=None):
    """How many of ``n_rows`` rows a transfer set is drawn around: those of
    positive weight, as rows of weight zero take no part."""
    if sample_weight is None:
        return n_rows
    return int(np.count_nonzero(np.asarray(sample_weight, dtype=float) > 0))


def _physical_memory():
    """Bytes of memory on this machine, or ``None`` where the system won't say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_transfer_size(n_rows, n_features, n_classes, factor):
    """Refuse a transfer set that cannot fit in this machine's memory.

    Called before the teacher's fit, so that an ``augment`` of, say, ``1e12``
    is refused at once rather than by NumPy after the fit. The transfer rows
    and their targets are counted as float64, once; the fit needs more.
    """
    n_new = _n_new(n_rows, factor)
    n_bytes = n_new * (n_features + n_classes) * 8
    memory = _physical_memory()
    if memory is not None and n_bytes > memory:
        raise ValueError(
            f"augment={factor:g} asks for {n_new:.3g} transfer rows, "
            f"{n_bytes / 2**30:.3g} GiB for their features and targets alone, "
            f"more than this machine's {memory / 2**30:.3g} GiB of memory. "
            "Use a smaller augment."
        )


def interpolate(
    X, factor, *, n_neighbors=5, random_state, sample_weight=None, codes=None
):
    """Make ``round(factor * n_samples)`` rows between neighbouring rows.

    ``n_samples`` counts the rows of positive weight.

    Each new row starts from a random training row ``x``, picks one of its
    ``n_neighbors`` nearest neighbours ``x_nn`` and a uniform ``lambda`` in
    [0, 1], and takes ``x + lambda (x_nn - x)``. Columns that look like codes
    (at most ``MAX_DISCRETE_VALUES`` distinct values, all integers:
    categories, flags, small counts) take the value of ``x`` or of ``x_nn``
    instead, whichever is nearer, so they keep values the data have. Where
    the value it would take is missing (in a continuous column, where either
    row misses it), the new row keeps the value of ``x``, missing or not. A
    new row that would then be a copy of ``x`` or ``x_nn`` (all its columns
    codes, or its continuous columns the same in both rows) takes, in each
    code column, the value of ``x_nn`` with probability ``lambda`` and that
    of ``x`` otherwise: a copy would carry the target the teacher learnt in
    its fit of that row.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows (numeric; NaN allowed).
    factor : float
        Size of the transfer set as a multiple of ``n_samples``.
    n_neighbors : int, default=5
        Number of nearest neighbours a row may be paired with.
    random_state : numpy.random.RandomState
        Source of randomness.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights: rows start new rows in proportion to them, and rows of
        weight zero take no part (nor as neighbours).
    codes : ndarray of shape (n_features,) of bool, default=None
        Columns known to hold codes (a DataFrame's ``category`` and boolean
        columns), kept as codes however many values they have.

    Returns
    -------
    X_new : ndarray of shape (round(factor * n_samples), n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from skhpmkd._augment import interpolate
    >>> X = np.array([[0.0, 1.0], [1.5, 1.0], [10.0, 0.0], [11.5, 0.0]])
    >>> new = interpolate(X, 2, n_neighbors=1, random_state=np.random.RandomState(0))
    >>> new.shape
    (8, 2)
    >>> bool(np.all((new[:, 0] <= 1.5) | (new[:, 0] >= 10)))
    True
    """
    # Rows of weight zero neither start new rows nor are neighbours.
    X, sample_weight = positive_rows(np.asarray(X, dtype=float), sample_weight)
    n_new = _n_new(X.shape[0], factor)
    if n_new == 0 or len(X) < 2:
        return np.empty((0, X.shape[1]))
    origin, nearest = _origins_and_neighbours(
        X, n_new, n_neighbors, random_state, sample_weight
    )
    choice = random_state.randint(nearest.shape[1], size=n_new)
    partner = nearest[np.arange(n_new), choice]
    base, other = X[origin], X[partner]
    weight = random_state.uniform(size=(n_new, 1))
    new = base + weight * (other - base)
    discrete = _discrete_columns(X, codes)
    new[:, discrete] = np.where(weight < 0.5, base, other)[:, discrete]
    new = np.where(np.isnan(new), base, new)
    # A row whose continuous columns do not tell it apart (a row of codes
    # alone, or of neighbours equal in them) would be a copy of x or x_nn,
    # whose target the teacher learnt in its fit: its codes take a draw each.
    copies = _same_rows(new, base) | _same_rows(new, other)
    if discrete.any() and copies.any():
        rows = np.flatnonzero(copies)
        own, partner = base[rows][:, discrete], other[rows][:, discrete]
        from_other = random_state.uniform(size=own.shape) < weight[rows]
        # A missing value of x_nn is not taken, as above.
        from_other &= ~np.isnan(partner)
        new[np.ix_(rows, np.flatnonzero(discrete))] = np.where(from_other, partner, own)
    return new


def _same_rows(A, B):
    """Whether each row of ``A`` equals that of ``B``, missing values included."""
    return np.all((A == B) | (np.isnan(A) & np.isnan(B)), axis=1)


def munge(
    X,
    factor,
    *,
    swap_probability=0.5,
    spread=1.0,
    random_state,
    sample_weight=None,
    codes=None,
):
    """Make ``round(factor * n_samples)`` MUNGE rows near the data.

    ``n_samples`` counts the rows of positive weight.

    Each synthetic row starts from a random training row ``x``; for each
    feature, with probability ``swap_probability``, its value is replaced by a
    draw from ``Normal(x_nn, |x - x_nn| / spread)`` where ``x_nn`` is the
    nearest neighbour of ``x`` (Bucila, Caruana and Niculescu-Mizil, 2006);
    in a column that looks like codes (see :func:`interpolate`) the value of
    ``x_nn`` itself, as MUNGE does with nominal attributes. Missing values
    stay missing.

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
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights: rows start new rows in proportion to them, and rows of
        weight zero take no part (nor as neighbours).
    codes : ndarray of shape (n_features,) of bool, default=None
        Columns known to hold codes (a DataFrame's ``category`` and boolean
        columns), kept as codes however many values they have.

    Returns
    -------
    X_new : ndarray of shape (round(factor * n_samples), n_features)
    """
    # Rows of weight zero neither start new rows nor are neighbours.
    X, sample_weight = positive_rows(np.asarray(X, dtype=float), sample_weight)
    n_new = _n_new(X.shape[0], factor)
    if n_new == 0 or len(X) < 2:
        return np.empty((0, X.shape[1]))
    origin, nearest = _origins_and_neighbours(X, n_new, 1, random_state, sample_weight)
    base = X[origin]
    partner = X[nearest[:, 0]]
    noise = np.abs(base - partner) / spread
    draws = random_state.normal(partner, np.nan_to_num(noise))
    # Codes, flags and small counts take the neighbour's value itself, as
    # MUNGE does with nominal attributes: noise would make values that
    # cannot occur.
    discrete = _discrete_columns(X, codes)
    draws[:, discrete] = partner[:, discrete]
    swap = random_state.uniform(size=base.shape) < swap_probability
    swap &= ~np.isnan(base) & ~np.isnan(partner)
    return np.where(swap, draws, base)


def transfer_rows(X, factor, method, random_state, sample_weight=None, codes=None):
    """Transfer set of ``method`` (one of ``AUGMENT_METHODS``).

    New rows start from training rows drawn in proportion to
    ``sample_weight`` (uniformly when it is None); the columns of ``codes``
    are kept as codes.
    """
    kwargs = dict(random_state=random_state, sample_weight=sample_weight, codes=codes)
    if method == "interpolate":
        return interpolate(X, factor, **kwargs)
    if method == "munge":
        return munge(X, factor, **kwargs)
    raise ValueError(
        f"Unknown augment_method {method!r}; choose one of {list(AUGMENT_METHODS)}."
    )
