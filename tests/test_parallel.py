"""The one-thread limit that the search and the refit run their fits under."""

import sys
import types

import numpy as np
from threadpoolctl import threadpool_info

from skhpmkd import _parallel
from skhpmkd._parallel import one_thread, parallel_map


def _threads():
    return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()}


def test_one_thread_limits_every_pool_and_restores_it():
    before = _threads()
    with one_thread():
        inside = _threads()
    assert inside and set(inside.values()) == {1}
    assert _threads() == before


def test_one_thread_looks_libraries_up_again_after_an_import(monkeypatch):
    with one_thread():
        pass
    kept = _parallel._controller["controller"]
    with one_thread():
        pass
    assert _parallel._controller["controller"] is kept
    # A module imported since (which may have loaded a native library) makes
    # the controller look the libraries up again.
    monkeypatch.setitem(sys.modules, "skhpmkd_test_new", types.ModuleType("m"))
    with one_thread():
        pass
    assert _parallel._controller["controller"] is not kept


def test_parallel_map_keeps_order_with_two_workers():
    squares = parallel_map(np.square, [(i,) for i in range(5)], n_jobs=2)
    assert squares == [0, 1, 4, 9, 16]


def test_thread_backend_leaves_the_thread_counts_as_they_were():
    # Worker threads set the process-wide one-thread limit at once and
    # restore it in turn; OpenBLAS could be left at one thread afterwards.
    from joblib import parallel_config
    from sklearn.datasets import load_wine
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skhpmkd import TemperatureScheduledDistiller

    X, y = load_wine(return_X_y=True)
    before = _threads()
    for seed in range(6):
        with parallel_config(backend="threading"):
            TemperatureScheduledDistiller(
                make_pipeline(StandardScaler(), LogisticRegression()),
                HistGradientBoostingClassifier(max_iter=5),
                cv=5,
                n_jobs=2,
                random_state=seed,
            ).fit(X, y)
        assert _threads() == before, seed
