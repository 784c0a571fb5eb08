"""Independent fits through sklearn's Parallel, one inner thread per worker."""

from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_limits


def _call_with_thread_limit(limit, func, args):
    if limit is None:
        return func(*args)
    with threadpool_limits(limits=limit):
        return func(*args)


def parallel_map(func, arg_tuples, n_jobs=None):
    """Return ``[func(*args) for args in arg_tuples]``, computed in parallel.

    When more than one worker runs, each worker's BLAS and OpenMP pools are
    limited to one thread: nested parallelism (our workers around HGB,
    XGBoost or LightGBM threads) can be far slower than either level alone.
    The backend is whatever ``joblib.parallel_config`` selects, dask included.
    """
    arg_tuples = list(arg_tuples)
    limit = 1 if effective_n_jobs(n_jobs) > 1 and len(arg_tuples) > 1 else None
    return Parallel(n_jobs=n_jobs)(
        delayed(_call_with_thread_limit)(limit, func, args) for args in arg_tuples
    )
