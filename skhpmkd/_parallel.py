"""Independent fits through sklearn's Parallel, one inner thread per worker."""

import sys

from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import ThreadpoolController

# threadpoolctl looks the loaded BLAS and OpenMP libraries up afresh in every
# ``threadpool_limits`` (about 3 ms, as long as a small student's fit); the
# lookup is kept, keyed by the number of imported modules.
_controller = {"n_modules": None, "controller": None}


def _thread_controller():
    """A :class:`~threadpoolctl.ThreadpoolController` of the libraries loaded now.

    It is made again only after a module has been imported, which is how a
    new native library (XGBoost's, LightGBM's OpenMP) is loaded.
    """
    if _controller["n_modules"] != len(sys.modules):
        _controller["controller"] = ThreadpoolController()
        # Counted after the lookup, which can import modules of its own.
        _controller["n_modules"] = len(sys.modules)
    return _controller["controller"]


def one_thread():
    """Context manager limiting every BLAS and OpenMP pool to one thread.

    The same limits as ``threadpoolctl.threadpool_limits(limits=1)``, without
    its library lookup at each call.
    """
    return _thread_controller().limit(limits=1)


def _in_one_thread(func, args):
    with one_thread():
        return func(*args)


def parallel_map(func, arg_tuples, n_jobs=None):
    """Return ``[func(*args) for args in arg_tuples]``, computed in parallel.

    When more than one worker runs, each worker's BLAS and OpenMP pools are
    limited to one thread: nested parallelism (our workers around HGB,
    XGBoost or LightGBM threads) can be far slower than either level alone.
    The backend is whatever ``joblib.parallel_config`` selects, dask included.
    """
    arg_tuples = list(arg_tuples)
    if effective_n_jobs(n_jobs) <= 1 or len(arg_tuples) <= 1:
        return Parallel(n_jobs=n_jobs)(delayed(func)(*args) for args in arg_tuples)
    # Workers of a thread-based backend (joblib's "threading") set the
    # process-wide limit at once, and restore what they found in an order
    # OpenBLAS need not follow: the counts this thread sees now are set again
    # when they are done.
    counts = _thread_controller().limit(limits=None)
    try:
        return Parallel(n_jobs=n_jobs)(
            delayed(_in_one_thread)(func, args) for args in arg_tuples
        )
    finally:
        counts.restore_original_limits()
