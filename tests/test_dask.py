"""A fit under joblib's dask backend on a distributed LocalCluster equals n_jobs=1."""

import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from skhpmkd import HPMKDClassifier

distributed = pytest.importorskip("distributed")


def test_dask_backend_gives_the_same_fit_as_one_job():
    X, y = make_classification(
        n_samples=800, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    params = dict(
        teachers=[
            ("forest", RandomForestClassifier(n_estimators=20, max_depth=6)),
            ("logistic", LogisticRegression(max_iter=500)),
        ],
        students=["dt", "lr"],
        budget=4,
        cv=3,
        random_state=0,
    )
    sequential = HPMKDClassifier(**params, n_jobs=1).fit(X, y)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            with parallel_config(backend="dask"):
                on_dask = HPMKDClassifier(**params, n_jobs=2).fit(X, y)
    # The fits really ran as tasks on the cluster's worker processes, so
    # every task and its result went through pickling.
    assert len(stream.data) > 0
    assert on_dask.best_params_ == sequential.best_params_
    assert_array_equal(on_dask.search_results_["score"], sequential.search_results_["score"])
    assert_allclose(on_dask.predict_proba(X), sequential.predict_proba(X))
    assert on_dask.n_models_fitted_ == sequential.n_models_fitted_
