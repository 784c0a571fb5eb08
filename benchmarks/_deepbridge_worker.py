"""Fit DeepBridge 2.0.0's HPM-KD on one split and write what ``run.py`` measures.

Executed by the python of a separate virtual environment that has
``deepbridge`` and ``deepbridge-distillation`` installed; skhpmkd never
imports DeepBridge. Usage::

    VENV/bin/python _deepbridge_worker.py INPUT.npz OUTPUT.json

``INPUT.npz`` holds ``X_train, y_train, X_val, y_val, teacher_proba`` (the
teacher's out-of-fold probabilities of the training rows), ``X_test``,
``X_batch`` (1,000 rows for the latency) and ``seed``. The configuration is
the one ``AutoDistiller(method="hpm", n_trials=10)`` builds, except that the
validation rows are a split of the training rows (AutoDistiller validates on
its test rows). The fitted model is pickled next to the output so that its
size can be measured by the caller.
"""

import json
import pickle
import sys
import time
import traceback

import numpy as np


def _fit(data):
    from deepbridge_distillation.techniques.hpm import HPMConfig, HPMDistiller

    config = HPMConfig(
        max_configs=16,
        n_trials=3,
        validation_split=0.2,
        random_state=int(data["seed"]),
        verbose=False,
        use_parallel=False,
        use_cache=True,
        use_progressive=True,
        use_multi_teacher=False,
        use_adaptive_temperature=True,
    )
    distiller = HPMDistiller(config=config)
    start = time.perf_counter()
    distiller.fit(
        data["X_train"],
        data["y_train"],
        data["X_val"],
        data["y_val"],
        teacher_probs=data["teacher_proba"],
    )
    fit_s = time.perf_counter() - start
    return distiller, fit_s


def _latency_ms(model, X_batch, repeats=5):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(X_batch)
        best = min(best, time.perf_counter() - start)
    return 1000 * best * 1000 / len(X_batch)


def main(in_path, out_path):
    data = dict(np.load(in_path))
    result = {"error": ""}
    try:
        distiller, fit_s = _fit(data)
        proba = np.asarray(distiller.predict_proba(data["X_test"]), dtype=float)
        model = distiller.best_model
        result.update(
            fit_s=fit_s,
            proba_test=proba.tolist(),
            model=type(model).__name__,
            latency_ms_1k=_latency_ms(model, data["X_batch"]),
            source=str((distiller.best_metrics or {}).get("source")),
        )
        with open(out_path + ".model.pkl", "wb") as handle:
            pickle.dump(model, handle)
    except Exception as exc:  # noqa: BLE001 - any crash of the library is a result
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()
    with open(out_path, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
