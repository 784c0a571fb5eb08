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
