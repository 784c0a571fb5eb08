"""Benchmark skhpmkd against the students a user would pick instead.

The protocol is ``../shared/BENCHMARK.md``: per data set and seed, one
stratified 70/30 split; a strong teacher (HistGradientBoosting, 500 rounds)
whose out-of-fold probabilities are computed once and shared by every
distilled row; per student family the hard-label student with its default
settings and tuned on hard labels, and the same family distilled; the
exhaustive 4 x 4 x 4 grid (families x temperature x alpha); HPMKDClassifier
and its ablations when the package has it; optionally DeepBridge 2.0.0's
``hpm`` from a separate virtual environment. Every row of one split is
measured in the same process on the same rows, so ratios hold on a noisy
machine.

Equal budget: a tuned search draws ``budget - 1`` candidates, scores each on a
holdout of 25% of the training rows (one fit each) and refits the best on all
training rows, so it fits ``budget`` models. The hard-label search is
``RandomizedSearchCV`` with that single split; the distilled search draws the
same size candidates (same ``ParameterSampler`` seed) and adds a temperature
and an alpha. Distilled rows get the teacher's cached out-of-fold soft
targets; their fit time excludes the teacher (shown on the teacher row) but
includes the transfer set and the student. HPMKDClassifier rows are
end-to-end: they fit their own teachers.

Run ``python benchmarks/run.py --help``; ``--quick`` finishes in minutes.
"""

import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import loguniform, randint
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import (
    ParameterSampler,
    RandomizedSearchCV,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

import skhpmkd
from skhpmkd import (
    HPMKDClassifier,
    ProgressiveChainClassifier,
    TemperatureScheduledDistiller,
)
from skhpmkd._base import imputed_logistic
from skhpmkd._hpmkd import auto_augment_factor
from skhpmkd._search import default_families
from skhpmkd._size import model_size
from skhpmkd._soft_targets import aligned_proba
from skhpmkd._students import MarginClassifier, SoftTargetClassifier
from skhpmkd._teachers import fit_teacher
from skhpmkd.metrics import kl_divergence, top1_agreement

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _datasets  # noqa: E402

HERE = Path(__file__).resolve().parent
TEMPERATURES = (0.5, 1.0, 2.0, 3.0)
ALPHAS = (0.3, 0.5, 0.7, 0.9)
LATENCY_ROWS = 1000
DEFAULT_FAMILIES = ("logistic", "tree", "hgb", "xgb")
QUICK_DATASETS = ("breast_cancer", "synth_1k_4c")
# The benchmark's teacher given, with a smaller search budget than the
# default 10: what a cheaper search costs in accuracy and saves in time.
SHARED_TEACHER_BUDGETS = {
    f"hpmkd-shared_teacher_budget{budget}": budget for budget in (2, 5)
}
# Each component alone, against HPMKDClassifier's defaults (one teacher,
# cosine temperature schedule, interpolated transfer set, lr/dt/xgboost
# students, no chain, no warm start).
HPMKD_VARIANTS = (
    "hpmkd",
    "hpmkd-constant_T",
    "hpmkd-no_augment",
    "hpmkd-munge",
    "hpmkd-chain",
    "hpmkd-all_families",
    "hpmkd-multi_teacher",
    "hpmkd-warm_start",
    "hpmkd-tenth_size",
    "hpmkd-shared_teacher",
    "hpmkd-tenth_size_mlp",
    *SHARED_TEACHER_BUDGETS,
)
# The six families of ``hpmkd-all_families``, as measured before the
# perceptron family was added (it has a variant of its own).
ALL_STUDENT_FAMILIES = ("lr", "dt", "rf", "hgb", "xgboost", "lightgbm")
COLUMNS = [
    "dataset",
    "n_rows",
    "n_features",
    "n_classes",
    "seed",
    "method",
    "family",
    "accuracy",
    "log_loss",
    "roc_auc",
    "ece",
    "retention",
    "agreement",
    "kl",
    "size",
    "size_ratio",
    "latency_ms_1k",
    "speedup",
    "fit_s",
    "n_fits",
    "peak_mb",
    "peak_mb_fresh",
    "params",
    "note",
]


# ---------------------------------------------------------------- families


@dataclass
class Family:
    """A student family: its default deployable student and its size space."""

    make: object
    space: dict = field(default_factory=dict)


def _tree():
    return DecisionTreeClassifier(max_depth=5)


def _hgb():
    return HistGradientBoostingClassifier(
        max_iter=50, max_leaf_nodes=8, early_stopping=False
    )


def _xgb():
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=50, max_depth=3, tree_method="hist", n_jobs=1)


def _lgbm():
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=50, num_leaves=8, n_jobs=1, verbose=-1)


def _forest():
    return RandomForestClassifier(n_estimators=50, max_depth=6, n_jobs=1)


def _gbm():
    return GradientBoostingClassifier(n_estimators=50, max_depth=3)


FAMILIES = {
    "logistic": Family(
        imputed_logistic, {"logisticregression__C": loguniform(1e-3, 1e2)}
    ),
    "tree": Family(
        _tree, {"max_depth": randint(2, 9), "min_samples_leaf": randint(1, 41)}
    ),
    "hgb": Family(
        _hgb,
        {
            "max_iter": randint(20, 101),
            "max_leaf_nodes": randint(4, 17),
            "learning_rate": loguniform(0.03, 0.3),
            "min_samples_leaf": randint(5, 51),
        },
    ),
    "xgb": Family(
        _xgb,
        {
            "n_estimators": randint(20, 101),
            "max_depth": randint(2, 5),
            "learning_rate": loguniform(0.03, 0.5),
            "min_child_weight": loguniform(0.5, 10),
        },
    ),
    # Only used to match the family HPMKDClassifier picks.
    "lgbm": Family(
        _lgbm,
        {
            "n_estimators": randint(20, 101),
            "num_leaves": randint(4, 17),
            "learning_rate": loguniform(0.03, 0.3),
        },
    ),
    "forest": Family(
        _forest, {"n_estimators": randint(10, 101), "max_depth": randint(3, 9)}
    ),
    "gbm": Family(_gbm, {"n_estimators": randint(20, 101), "max_depth": randint(2, 5)}),
}


# The matched baselines (``hard_tuned@hpmkd``, ``hard_tuned@shared``) search
# every size HPMKDClassifier's built-in student of the family can take: up to
# 150 rounds of depth 5 for XGBoost, 150 rounds of 31 leaves for HGB and
# LightGBM, depth 16 for a forest. With the families' own spaces above the
# comparison at equal fits would also be one of capacity.
MATCHED_SPACE = {
    "xgb": {"n_estimators": randint(20, 151), "max_depth": randint(2, 6)},
    "hgb": {"max_iter": randint(20, 151), "max_leaf_nodes": randint(4, 32)},
    "lgbm": {"n_estimators": randint(20, 151), "num_leaves": randint(4, 32)},
    "forest": {"max_depth": randint(3, 17)},
}


def matched_space(name):
    """The size space of the matched baseline of family ``name``."""
    return {**FAMILIES[name].space, **MATCHED_SPACE.get(name, {})}


def family_of(model):
    """The benchmark family of a deployed student, unwrapping the student wrappers."""
    while True:
        if isinstance(model, Pipeline):
            model = model.steps[-1][1]
        elif isinstance(model, SoftTargetClassifier):
            model = model.regressor_
        elif isinstance(model, MarginClassifier):
            model = model.estimator
        elif hasattr(model, "student_"):
            model = model.student_
        else:
            break
    name = type(model).__name__
    return {
        "LogisticRegression": "logistic",
        "DecisionTreeClassifier": "tree",
        "DecisionTreeRegressor": "tree",
        "HistGradientBoostingClassifier": "hgb",
        "XGBClassifier": "xgb",
        "LGBMClassifier": "lgbm",
        "RandomForestClassifier": "forest",
        "RandomForestRegressor": "forest",
        "GradientBoostingClassifier": "gbm",
        "MLPClassifier": "mlp",
    }.get(name, name)


# ---------------------------------------------------------------- teacher


def make_teacher():
    return HistGradientBoostingClassifier(max_iter=500, learning_rate=0.05)


class PrecomputedTeacher(ClassifierMixin, BaseEstimator):
    """A fitted teacher with its out-of-fold soft targets, shared by the KD rows.

    ``fit_transform`` returns the cached out-of-fold targets (skhpmkd takes a
    classifier's ``fit_transform`` as its soft targets), so the teacher is
    cross-fitted once per split instead of once per distilled student.

    Parameters
    ----------
    teacher : FrozenEstimator
        The teacher fitted on all training rows.
    soft_targets : ndarray of shape (n_samples, n_classes)
        Its out-of-fold probabilities of exactly the rows passed to ``fit``.
    """

    # skhpmkd reads the soft targets from ``fit_transform`` only for
    # estimators marked so; without the mark the teacher would be
    # cross-fitted, each fold predicting with the teacher fitted on all rows.
    _fit_transform_gives_soft_targets = True

    def __init__(self, teacher=None, soft_targets=None):
        self.teacher = teacher
        self.soft_targets = soft_targets

    def fit(self, X, y):
        self.classes_ = np.asarray(self.teacher.classes_)
        return self

    def fit_transform(self, X, y):
        if len(X) != len(self.soft_targets):
            raise ValueError(
                "PrecomputedTeacher holds soft targets of "
                f"{len(self.soft_targets)} rows, "
                f"but fit_transform got {len(X)}."
            )
        self.fit(X, y)
        return np.asarray(self.soft_targets, dtype=float)

    def predict_proba(self, X):
        return self.teacher.predict_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


# ---------------------------------------------------------------- metrics


def _status_mib(key):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise OSError(f"/proc/self/status has no {key}")


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where impossible.

    Free heap memory is handed back to the system first (glibc ``malloc_trim``),
    so that the resident set left by earlier rows does not hide this fit's.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def measured(func):
    """Run ``func()``; return its result, wall seconds and peak RSS growth (MiB).

    The peak is the kernel's resident-set high-water mark (``VmHWM``), reset
    right before the call, minus the resident set at that moment: it counts
    native buffers (XGBoost, LightGBM, OpenMP) as well as NumPy arrays, at no
    cost to the timing. Memory the allocator kept from earlier rows can be
    reused without growing the resident set, so small fits can read near 0;
    :func:`fresh_peak_mb` measures a fit alone in a new process. NaN where
    ``/proc/self/clear_refs`` is unavailable.
    """
    tracked = _reset_peak_rss()
    before = _status_mib("VmRSS") if tracked else np.nan
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    peak = _status_mib("VmHWM") - before if tracked else np.nan
    return result, elapsed, peak


def latency_ms_per_1k(model, X_batch, repeats=5):
    """Best-of-``repeats`` ``predict_proba`` time of a 1,000-row batch, in ms."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(X_batch)
        best = min(best, time.perf_counter() - start)
    return 1000 * best * 1000 / len(X_batch)


def expected_calibration_error(y, proba, n_bins=15):
    """Top-label ECE with equal-width confidence bins."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        mask = bins == b
        total += mask.sum() * abs(correct[mask].mean() - confidence[mask].mean())
    return total / len(y)


def _normalized(proba):
    proba = np.clip(np.asarray(proba, dtype=float), 1e-15, None)
    return proba / proba.sum(axis=1, keepdims=True)


def roc_auc(y, proba):
    """ROC AUC (binary) or macro one-vs-rest AUC; NaN if a class is absent."""
    n_classes = proba.shape[1]
    if len(np.unique(y)) < n_classes:
        return np.nan
    if n_classes == 2:
        return roc_auc_score(y, proba[:, 1])
    return roc_auc_score(y, proba, multi_class="ovr", average="macro")


def size_of(model):
    try:
        return float(model_size(model))
    except ValueError:
        return np.nan


# ---------------------------------------------------------------- one split


@dataclass
class Split:
    """Everything measured once per data set and seed."""

    dataset: _datasets.Dataset
    seed: int
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    inner_train: np.ndarray
    inner_val: np.ndarray
    X_batch: np.ndarray
    teacher: object = None
    soft_targets: np.ndarray = None
    teacher_proba_test: np.ndarray = None
    teacher_accuracy: float = np.nan
    teacher_size: float = np.nan
    teacher_latency: float = np.nan
    rows: list = field(default_factory=list)

    @property
    def n_classes(self):
        return self.dataset.n_classes

    def precomputed(self, rows=None):
        targets = self.soft_targets if rows is None else self.soft_targets[rows]
        return PrecomputedTeacher(FrozenEstimator(self.teacher), targets)

    def add(
        self,
        method,
        family,
        proba,
        deployed,
        fit_s,
        n_fits,
        peak_mb,
        params="",
        note="",
        latency=None,
    ):
        """Score a fitted model on the test rows and record the row."""
        dataset = self.dataset
        row = dict(
            dataset=dataset.name,
            n_rows=len(dataset.y),
            n_features=dataset.X.shape[1],
            n_classes=self.n_classes,
            seed=self.seed,
            method=method,
            family=family,
            fit_s=fit_s,
            n_fits=n_fits,
            peak_mb=peak_mb,
            params=params,
            note=note,
        )
        if proba is not None:
            proba = _normalized(proba)
            accuracy = accuracy_score(self.y_test, proba.argmax(axis=1))
            size = np.nan if deployed is None else size_of(deployed)
            if latency is None:
                latency = latency_ms_per_1k(deployed, self.X_batch)
            row.update(
                accuracy=accuracy,
                log_loss=log_loss(self.y_test, proba, labels=np.arange(self.n_classes)),
                roc_auc=roc_auc(self.y_test, proba),
                ece=expected_calibration_error(self.y_test, proba),
                retention=accuracy / self.teacher_accuracy,
                agreement=top1_agreement(self.teacher_proba_test, proba),
                kl=kl_divergence(self.teacher_proba_test, proba),
                size=size,
                size_ratio=self.teacher_size / size,
                latency_ms_1k=latency,
                speedup=self.teacher_latency / latency,
            )
        self.rows.append(row)
        print(
            f"  {dataset.name:>20} seed={self.seed} {method:<22} {family:<9} "
            f"acc={row.get('accuracy', np.nan):.4f} fit={fit_s:7.2f}s "
            f"fits={n_fits} {note}",
            file=sys.stderr,
            flush=True,
        )
        return row


def make_split(dataset, seed):
    indices = np.arange(len(dataset.y))
    train, test = train_test_split(
        indices, test_size=0.3, stratify=dataset.y, random_state=seed
    )
    X_train, X_test = dataset.X[train], dataset.X[test]
    y_train, y_test = dataset.y[train], dataset.y[test]
    inner_train, inner_val = train_test_split(
        np.arange(len(y_train)), test_size=0.25, stratify=y_train, random_state=seed
    )
    X_batch = X_test[np.arange(LATENCY_ROWS) % len(X_test)]
    return Split(
        dataset, seed, X_train, X_test, y_train, y_test, inner_train, inner_val, X_batch
    )


def fit_shared_teacher(split, cv):
    classes = np.arange(split.n_classes)
    teacher = make_teacher().set_params(random_state=split.seed)
    (teacher_, soft_targets), fit_s, peak = measured(
        lambda: fit_teacher(
            teacher, split.X_train, split.y_train, classes, cv=cv, n_jobs=1
        )
    )
    split.teacher, split.soft_targets = teacher_, soft_targets
    split.teacher_proba_test = _normalized(teacher_.predict_proba(split.X_test))
    split.teacher_accuracy = accuracy_score(
        split.y_test, split.teacher_proba_test.argmax(axis=1)
    )
    split.teacher_size = size_of(teacher_)
    split.teacher_latency = latency_ms_per_1k(teacher_, split.X_batch)
    split.add(
        "teacher",
        "hgb-500",
        split.teacher_proba_test,
        teacher_,
        fit_s,
        cv + 1,
        peak,
        note="fit_s includes the out-of-fold fits",
    )


# ---------------------------------------------------------------- rows


def _seeded(estimator, seed):
    params = {
        key: seed
        for key in estimator.get_params()
        if key == "random_state" or key.endswith("__random_state")
    }
    return estimator.set_params(**params)


def _student(name, seed, params=None):
    return _seeded(FAMILIES[name].make(), seed).set_params(**(params or {}))


def _params_text(params):
    return " ".join(
        (
            f"{key.split('__')[-1]}={value:.3g}"
            if isinstance(value, float)
            else f"{key.split('__')[-1]}={value}"
        )
        for key, value in sorted(params.items())
    )


def hard_default(split, name):
    model = _student(name, split.seed)
    fitted, fit_s, peak = measured(lambda: model.fit(split.X_train, split.y_train))
    proba = aligned_proba(fitted, split.X_test, np.arange(split.n_classes))
    split.add("hard_default", name, proba, fitted, fit_s, 1, peak)


def hard_tuned(split, name, budget, method="hard_tuned", space=None):
    search = RandomizedSearchCV(
        _student(name, split.seed),
        FAMILIES[name].space if space is None else space,
        n_iter=budget - 1,
        scoring="accuracy",
        cv=[(split.inner_train, split.inner_val)],
        refit=True,
        random_state=split.seed,
        error_score="raise",
    )
    _, fit_s, peak = measured(lambda: search.fit(split.X_train, split.y_train))
    model = search.best_estimator_
    proba = aligned_proba(model, split.X_test, np.arange(split.n_classes))
    split.add(
        method,
        name,
        proba,
        model,
        fit_s,
        budget,
        peak,
        params=_params_text(search.best_params_),
    )


def _distiller(
    split, name, seed, params, temperature, alpha, rows=None, augment="auto"
):
    if augment == "auto":
        n_rows = len(split.y_train) if rows is None else len(rows)
        augment = auto_augment_factor(n_rows)
    return TemperatureScheduledDistiller(
        split.precomputed(rows),
        _student(name, seed, params),
        temperature=temperature,
        alpha=alpha,
        augment=augment,
        random_state=seed,
    )


def _add_distilled(split, method, name, distiller, fit_s, n_fits, peak, params):
    split.add(
        method,
        name,
        distiller.predict_proba(split.X_test),
        distiller.student_,
        fit_s,
        n_fits,
        peak,
        params=params,
    )


def kd_default(split, name, method="kd_default", augment="auto"):
    distiller = _distiller(split, name, split.seed, {}, 1.0, 0.5, augment=augment)
    _, fit_s, peak = measured(lambda: distiller.fit(split.X_train, split.y_train))
    _add_distilled(
        split,
        method,
        name,
        distiller,
        fit_s,
        1,
        peak,
        f"T=1 alpha=0.5 augment={augment}",
    )


def _select_and_refit(split, configs):
    """Score each ``(name, params, T, alpha)`` on the holdout; refit the best."""
    X_in, y_in = split.X_train[split.inner_train], split.y_train[split.inner_train]
    X_val, y_val = split.X_train[split.inner_val], split.y_train[split.inner_val]
    scores = []
    for name, params, temperature, alpha in configs:
        distiller = _distiller(
            split, name, split.seed, params, temperature, alpha, rows=split.inner_train
        ).fit(X_in, y_in)
        scores.append(accuracy_score(y_val, distiller.predict(X_val)))
    best = configs[int(np.argmax(scores))]
    name, params, temperature, alpha = best
    final = _distiller(split, name, split.seed, params, temperature, alpha)
    return final.fit(split.X_train, split.y_train), best


def _config_text(params, temperature, alpha):
    return f"{_params_text(params)} T={temperature:g} alpha={alpha:g}".strip()


def kd_tuned(split, name, budget):
    candidates = list(
        ParameterSampler(FAMILIES[name].space, budget - 1, random_state=split.seed)
    )
    rng = np.random.RandomState(split.seed)
    configs = [
        (name, params, float(rng.choice(TEMPERATURES)), float(rng.choice(ALPHAS)))
        for params in candidates
    ]
    (distiller, best), fit_s, peak = measured(lambda: _select_and_refit(split, configs))
    _add_distilled(
        split, "kd_tuned", name, distiller, fit_s, budget, peak, _config_text(*best[1:])
    )


def grid(split, families):
    configs = [
        (name, {}, temperature, alpha)
        for name in families
        for temperature in TEMPERATURES
        for alpha in ALPHAS
    ]
    (distiller, best), fit_s, peak = measured(lambda: _select_and_refit(split, configs))
    _add_distilled(
        split,
        "grid",
        best[0],
        distiller,
        fit_s,
        len(configs) + 1,
        peak,
        _config_text(*best[1:]),
    )


def _teacher_trio(seed):
    return [
        ("hgb", HistGradientBoostingClassifier(random_state=seed)),
        (
            "forest",
            RandomForestClassifier(n_estimators=200, n_jobs=1, random_state=seed),
        ),
        ("logistic", _seeded(imputed_logistic(), seed)),
    ]


def _hpmkd_params(variant, split, memory_path):
    if variant == "hpmkd-shared_teacher":
        return {"teachers": split.precomputed()}
    if variant in SHARED_TEACHER_BUDGETS:
        return {
            "teachers": split.precomputed(),
            "budget": SHARED_TEACHER_BUDGETS[variant],
        }
    # The retention target's bounds: a tenth of the benchmark teacher's
    # nodes and of its predict time (ms per 1,000 rows -> s per 1,000 rows).
    tenth = {
        "max_student_size": max(1, int(split.teacher_size // 10)),
        "max_latency": split.teacher_latency / 10 / 1000,
    }
    return {
        "hpmkd": {},
        "hpmkd-constant_T": {"use_temperature_schedule": False},
        "hpmkd-no_augment": {"augment": 0.0},
        "hpmkd-munge": {"augment_method": "munge"},
        "hpmkd-chain": {"use_chain": True},
        "hpmkd-all_families": {"students": list(ALL_STUDENT_FAMILIES)},
        "hpmkd-multi_teacher": {"teachers": _teacher_trio(split.seed)},
        "hpmkd-warm_start": {"warm_start_memory": str(memory_path)},
        "hpmkd-tenth_size": tenth,
        # The same bounds, with a one-hidden-layer perceptron among the students.
        "hpmkd-tenth_size_mlp": {**tenth, "students": [*default_families(), "mlp"]},
    }[variant]


def hpmkd_row(split, variant, memory_path, matched_budget_cap, fresh_memory=False):
    params = _hpmkd_params(variant, split, memory_path)
    model = HPMKDClassifier(n_jobs=1, random_state=split.seed, **params)
    _, fit_s, peak = measured(lambda: model.fit(split.X_train, split.y_train))
    name = family_of(model.student_)
    n_fits = int(model.n_models_fitted_)
    note = "warm-started" if getattr(model, "warm_started_", False) else ""
    if variant.startswith("hpmkd-shared_teacher"):
        # The benchmark's cached teacher: only the search and the student
        # are timed, as for the grid, the kd_* rows and DeepBridge.
        n_fits = int(model.n_student_fits_)
        note = "shared teacher: fit_s and n_fits are the search's (students only)"
    best = model.best_params_
    row = split.add(
        variant,
        name,
        model.predict_proba(split.X_test),
        model.student_,
        fit_s,
        n_fits,
        peak,
        params=" ".join(f"{k}={v}" for k, v in sorted(best.items() if best else ()))[
            :120
        ],
        note=note,
    )
    if variant == "hpmkd" and fresh_memory:
        row["peak_mb_fresh"] = fresh_peak_mb(split.dataset.name, split.seed)
    matched = {
        "hpmkd": "hard_tuned@hpmkd",
        "hpmkd-shared_teacher": "hard_tuned@shared",
    }
    if variant in matched and name in FAMILIES and n_fits >= 2:
        budget = min(n_fits, matched_budget_cap)
        hard_tuned(
            split, name, budget, method=matched[variant], space=matched_space(name)
        )


def fresh_peak_mb(dataset_name, seed):
    """Peak RSS of HPMKDClassifier's fit alone in a new process, in MiB.

    Two children load the same data and split; one also fits
    ``HPMKDClassifier`` with its defaults. The difference of their peak
    resident sets (``VmHWM``) is the fit's peak memory, free of whatever
    earlier rows left in this process.
    """
    peaks = []
    for what in ("load", "hpmkd"):
        command = [
            sys.executable,
            __file__,
            "--memory-child",
            dataset_name,
            str(seed),
            what,
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=3600
        )
        peaks.append(float(completed.stdout.strip().splitlines()[-1]))
    return peaks[1] - peaks[0]


def memory_child(dataset_name, seed, what):
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's
    # peak across exec.
    split = make_split(_datasets.load(dataset_name), int(seed))
    if what == "hpmkd":
        with threadpool_limits(limits=1):
            HPMKDClassifier(n_jobs=1, random_state=int(seed)).fit(
                split.X_train, split.y_train
            )
    print(_status_mib("VmHWM"))


def chain(split, name):
    model = ProgressiveChainClassifier(
        "auto",
        teacher=split.precomputed(),
        auto_student=_student(name, split.seed),
        random_state=split.seed,
        n_jobs=1,
    )
    _, fit_s, peak = measured(lambda: model.fit(split.X_train, split.y_train))
    steps = [stage["name"] for stage in model.stages_]
    split.add(
        "chain",
        name,
        model.predict_proba(split.X_test),
        model.student_,
        fit_s,
        np.nan,
        peak,
        params=" -> ".join(steps),
        note="steps='auto'; fit count not exposed",
    )


def deepbridge_row(split, venv):
    python = Path(venv) / "bin" / "python"
    X_in, y_in = split.X_train[split.inner_train], split.y_train[split.inner_train]
    X_val, y_val = split.X_train[split.inner_val], split.y_train[split.inner_val]
    with tempfile.TemporaryDirectory() as folder:
        data_path = os.path.join(folder, "split.npz")
        out_path = os.path.join(folder, "result.json")
        np.savez(
            data_path,
            X_train=X_in,
            y_train=y_in,
            X_val=X_val,
            y_val=y_val,
            teacher_proba=split.soft_targets[split.inner_train],
            X_test=split.X_test,
            X_batch=split.X_batch,
            seed=split.seed,
        )
        command = [
            str(python),
            str(HERE / "_deepbridge_worker.py"),
            data_path,
            out_path,
        ]
        env = dict(
            os.environ,
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
        )
        completed = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=1800
        )
        if not os.path.exists(out_path):
            note = f"worker failed: {completed.stderr.strip().splitlines()[-1:]}"
            split.add(
                "deepbridge_hpm", "", None, None, np.nan, np.nan, np.nan, note=note
            )
            return
        with open(out_path) as handle:
            result = json.load(handle)
        if result["error"]:
            split.add(
                "deepbridge_hpm",
                "",
                None,
                None,
                np.nan,
                np.nan,
                np.nan,
                note=result["error"][:160],
            )
            return
        proba = np.asarray(result["proba_test"], dtype=float)
        model = _load_pickle(out_path + ".model.pkl")
    split.add(
        "deepbridge_hpm",
        family_of(model) if model is not None else result["model"],
        _full_proba(proba, split.n_classes),
        model,
        result["fit_s"],
        np.nan,
        np.nan,
        params=f"best from {result['source']}",
        note="fit_s and latency measured in the DeepBridge venv; no peak memory",
        latency=result["latency_ms_1k"],
    )


def _full_proba(proba, n_classes):
    if proba.shape[1] == n_classes:
        return proba
    raise ValueError(
        f"DeepBridge returned {proba.shape[1]} probability columns, not {n_classes}."
    )


def _load_pickle(path):
    import pickle

    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception:  # noqa: BLE001 - a DeepBridge-only class cannot be loaded here
        return None


# ---------------------------------------------------------------- summaries

PER_FAMILY = (
    "hard_default",
    "hard_tuned",
    "kd_noaug",
    "kd_default",
    "kd_tuned",
    "chain",
)
METRICS = [
    "accuracy",
    "log_loss",
    "roc_auc",
    "ece",
    "retention",
    "agreement",
    "kl",
    "size",
    "size_ratio",
    "latency_ms_1k",
    "speedup",
    "fit_s",
    "n_fits",
    "peak_mb",
    "peak_mb_fresh",
]
FORMATS = {
    "accuracy": ".4f",
    "log_loss": ".4f",
    "roc_auc": ".4f",
    "ece": ".4f",
    "retention": ".4f",
    "agreement": ".4f",
    "kl": ".4f",
    "size": ".0f",
    "size_ratio": ".1f",
    "latency_ms_1k": ".3g",
    "speedup": ".1f",
    "fit_s": ".3g",
    "n_fits": ".0f",
    "peak_mb": ".1f",
    "peak_mb_fresh": ".1f",
    "win_rate": ".2f",
    "d_accuracy": "+.4f",
    "d_log_loss": "+.4f",
    "time_ratio": ".2f",
    "mb_per_1k_rows": ".2f",
    "share": ".2f",
    "split_share": ".2f",
    "retention_only": ".2f",
    "share_not_worse": ".2f",
    "share_better": ".2f",
    "mean_d_accuracy": "+.4f",
    "mean_d_log_loss": "+.4f",
    "median_time_ratio": ".2f",
}


def _label(frame):
    per_family = frame["method"].isin(PER_FAMILY)
    return frame["method"].where(~per_family, frame["method"] + ":" + frame["family"])


def aggregate(frame):
    """Mean over seeds per data set and method (per-family methods kept apart)."""
    frame = frame.assign(family=frame["family"].fillna(""))
    frame = frame.assign(label=_label(frame))
    grouped = frame.groupby(["dataset", "label"], sort=False)
    table = grouped[METRICS].mean(numeric_only=True)
    table["family"] = grouped["family"].agg(
        lambda s: "/".join(sorted(set(map(str, s))))
    )
    table["seeds"] = grouped.size()
    table = table.reset_index()
    table.insert(1, "method", table.pop("label"))
    table.insert(2, "family", table.pop("family"))
    return table


def _pairs(frame, method, baseline, per_family):
    frame = frame.assign(family=frame["family"].fillna(""))
    keys = ["dataset", "seed"] + (["family"] if per_family else [])
    left = frame[frame["method"] == method]
    right = frame[frame["method"] == baseline]
    merged = left.merge(right, on=keys, suffixes=("", "_base"))
    return merged.dropna(subset=["accuracy", "accuracy_base"])


def paired_summary(frame):
    """Win rate and mean differences of each method against its baseline."""
    comparisons = [
        ("kd_tuned", "hard_tuned", True, "equal fits (budget), per family"),
        ("kd_default", "hard_default", True, "one student fit each, per family"),
        ("kd_default", "kd_noaug", True, "transfer set (augment='auto') vs none"),
        ("chain", "kd_noaug", True, "chain (steps='auto') vs direct, no transfer set"),
        (
            "hpmkd",
            "hard_tuned@hpmkd",
            False,
            "equal fits (n_models_fitted_), by chosen family",
        ),
        (
            "hpmkd-shared_teacher",
            "hard_tuned@shared",
            False,
            "equal student fits (n_student_fits_), the teacher given, by chosen family",
        ),
        ("hpmkd", "grid", False, "search vs the 65-fit grid"),
        (
            "hpmkd-tenth_size_mlp",
            "hpmkd-tenth_size",
            False,
            "the same bounds, the perceptron family added",
        ),
        ("grid", "hard_tuned", True, "grid vs tuned hard-label of its chosen family"),
    ]
    comparisons += [
        (variant, "hpmkd", False, "one setting changed vs HPMKDClassifier defaults")
        for variant in HPMKD_VARIANTS[1:]
        if variant not in SHARED_TEACHER_BUDGETS
    ]
    comparisons += [
        (
            variant,
            "hpmkd-shared_teacher",
            False,
            f"budget {budget} vs the default 10, the teacher given",
        )
        for variant, budget in SHARED_TEACHER_BUDGETS.items()
    ]
    comparisons += [
        ("hpmkd", "deepbridge_hpm", False, "vs DeepBridge 2.0.0 hpm"),
        (
            "hpmkd-shared_teacher",
            "deepbridge_hpm",
            False,
            "same teacher targets; both timed without the teacher",
        ),
        *(
            (variant, "deepbridge_hpm", False, "the same, with a smaller budget")
            for variant in SHARED_TEACHER_BUDGETS
        ),
        (
            "hpmkd-shared_teacher",
            "grid",
            False,
            "search vs the 65-fit grid, same teacher, both without the teacher",
        ),
        ("grid", "deepbridge_hpm", False, "vs DeepBridge 2.0.0 hpm"),
    ]
    records = []
    for method, baseline, per_family, what in comparisons:
        pairs = _pairs(frame, method, baseline, per_family)
        if pairs.empty:
            continue
        groups = [("all", pairs)]
        if per_family or baseline.startswith("hard_tuned@"):
            groups += list(pairs.groupby("family", sort=True))
        for family, group in groups:
            records.append(
                dict(
                    comparison=f"{method} vs {baseline}",
                    family=family,
                    **_paired_statistics(group),
                    note=what,
                )
            )
    return pd.DataFrame(records)


def _paired_statistics(pairs):
    delta = pairs["accuracy"] - pairs["accuracy_base"]
    return dict(
        pairs=len(pairs),
        win_rate=float(np.mean(np.sign(delta) * 0.5 + 0.5)),
        d_accuracy=float(delta.mean()),
        d_log_loss=float((pairs["log_loss"] - pairs["log_loss_base"]).mean()),
        time_ratio=float((pairs["fit_s_base"] / pairs["fit_s"]).mean()),
    )


HEADLINE_COMPARISONS = (
    ("hpmkd", "hard_tuned@hpmkd"),
    ("hpmkd-shared_teacher", "hard_tuned@shared"),
    ("hpmkd", "deepbridge_hpm"),
    ("hpmkd-shared_teacher", "deepbridge_hpm"),
    *((variant, "deepbridge_hpm") for variant in SHARED_TEACHER_BUDGETS),
)


def per_dataset_summary(frame):
    """The comparisons the targets name, per data set (mean over seeds)."""
    records = []
    for method, baseline in HEADLINE_COMPARISONS:
        pairs = _pairs(frame, method, baseline, per_family=False)
        for dataset, group in pairs.groupby("dataset", sort=False):
            records.append(
                dict(
                    comparison=f"{method} vs {baseline}",
                    dataset=dataset,
                    **_paired_statistics(group),
                )
            )
    return pd.DataFrame(records)


def dataset_share_summary(per_dataset):
    """Per comparison: on how many data sets the method is at least as accurate."""
    if per_dataset.empty:
        return per_dataset
    return (
        per_dataset.assign(
            not_worse=per_dataset["d_accuracy"] >= 0,
            better=per_dataset["d_accuracy"] > 0,
        )
        .groupby("comparison", sort=False)
        .agg(
            datasets=("dataset", "size"),
            share_not_worse=("not_worse", "mean"),
            share_better=("better", "mean"),
            mean_d_accuracy=("d_accuracy", "mean"),
            mean_d_log_loss=("d_log_loss", "mean"),
            median_time_ratio=("time_ratio", "median"),
        )
        .reset_index()
    )


def _meets_retention_target(rows):
    return (
        (rows["retention"] >= 0.99)
        & (rows["size_ratio"] >= 10)
        & (rows["speedup"] >= 10)
    )


def target_summary(table, frame):
    """Share of data sets where a method keeps >= 99% of the teacher's accuracy
    with a student >= 10x smaller and >= 10x faster to predict (on the means
    over seeds of ``table``), and share of single splits of ``frame`` that do."""
    table = table[table["method"] != "teacher"].dropna(subset=["accuracy"])
    rows = frame.dropna(subset=["accuracy"])
    split_share = _meets_retention_target(rows).groupby(_label(rows)).mean()
    summary = (
        table.assign(
            met=_meets_retention_target(table), kept=table["retention"] >= 0.99
        )
        .groupby("method", sort=False)
        .agg(
            datasets=("met", "size"),
            share=("met", "mean"),
            retention_only=("kept", "mean"),
        )
        .reset_index()
    )
    summary["split_share"] = summary["method"].map(split_share)
    return summary


def memory_summary(frame):
    """Fit time and peak memory against rows on the synthetic data."""
    synthetic = frame[frame["dataset"].str.startswith("synth_")]
    synthetic = synthetic[synthetic["method"].isin(["teacher", "kd_default", "hpmkd"])]
    if synthetic.empty:
        return pd.DataFrame()
    table = (
        synthetic.assign(label=_label(synthetic))
        .groupby(["label", "n_classes", "n_rows"], sort=True)[
            ["fit_s", "peak_mb", "peak_mb_fresh"]
        ]
        .mean()
        .reset_index()
    )
    peak = table["peak_mb_fresh"].fillna(table["peak_mb"])
    table["mb_per_1k_rows"] = peak / (table["n_rows"] / 1000)
    return table.rename(columns={"label": "method"})


def markdown_table(table):
    if table.empty:
        return "(no rows)\n"
    columns = list(table.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in table.iterrows():
        cells = []
        for column in columns:
            value = row[column]
            if isinstance(value, (float, np.floating)):
                cells.append(
                    "" if np.isnan(value) else format(value, FORMATS.get(column, ".4g"))
                )
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _git_commit():
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=HERE,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_info():
    """Machine, versions and date of this run."""
    import lightgbm
    import scipy
    import sklearn
    import xgboost

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": (
            f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores"
        ),
        "python": platform.python_version(),
        "skhpmkd": f"{skhpmkd.__version__} (git {_git_commit()})",
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "xgboost": xgboost.__version__,
        "lightgbm": lightgbm.__version__,
    }


def report(frame, runs, n_replaced=0):
    """The markdown report: the runs, the full table and the summaries."""
    table = aggregate(frame)
    run_lines = []
    for info in runs:
        run_lines.append("\n".join(f"- {key}: {value}" for key, value in info.items()))
    parts = [
        "## Run\n",
        "\n\n".join(run_lines),
        "\n- threads: one per model (threadpoolctl limit 1; XGBoost and LightGBM "
        "n_jobs=1)",
        "- peak_mb: growth of the peak resident set during the fit (Linux VmHWM, reset "
        "through /proc/self/clear_refs before each fit; native buffers included)",
        "- distilled rows (kd_*, chain, grid) reuse the teacher's out-of-fold targets: "
        "their fit_s excludes the teacher row's fit_s; hpmkd rows fit their own "
        "teachers",
        "- rows repeated by a later run (same data set, seed, method and, per "
        f"family, family) and replaced by it: {n_replaced}\n",
        "\n## Results (mean over seeds)\n",
        markdown_table(table),
        "\n## Paired comparisons (win = higher test accuracy, tie = 0.5; "
        "d_log_loss < 0 is better; time_ratio = baseline fit time / method fit time)\n",
        markdown_table(paired_summary(frame)),
        "\n## The target comparisons per data set (pairs are seeds)\n",
        markdown_table(per_dataset := per_dataset_summary(frame)),
        "\nShare of data sets where the method's mean accuracy is at least "
        "(share_not_worse) or above (share_better) the baseline's:\n",
        markdown_table(dataset_share_summary(per_dataset)),
        "\n## Retention target: share of data sets whose means over seeds have "
        "retention >= 0.99, size ratio >= 10 and predict speed-up >= 10 against "
        "the teacher (split_share: share of single splits that have all three)\n",
        markdown_table(target_summary(table, frame)),
        "\n## Fit time and peak memory against rows (synthetic data; "
        "mb_per_1k_rows divides the fresh-process peak where it was measured, "
        "else the in-process one)\n",
        markdown_table(memory_summary(frame)),
    ]
    return "\n".join(parts)


def merge_runs(frames):
    """Concatenate the rows of several runs, in order.

    A row that a later run repeats (same data set, seed and method, and the
    same family for the per-family methods) is replaced by the later one, so
    that each split counts once; a failed row (no accuracy) replaces nothing
    and is itself replaced by any scored row of its split. Returns the merged
    frame and the number of rows replaced.
    """
    frame = pd.concat(frames, ignore_index=True).reindex(columns=COLUMNS)
    family = frame["family"].where(frame["method"].isin(PER_FAMILY), "")
    key = frame[["dataset", "seed", "method"]].assign(family=family.fillna(""))
    key = pd.Series(list(key.itertuples(index=False)), index=frame.index)
    failed = frame["accuracy"].isna()
    repeated = pd.concat(
        [
            key[~failed].duplicated(keep="last"),
            key[failed].duplicated(keep="last") | key[failed].isin(set(key[~failed])),
        ]
    ).reindex(frame.index)
    return frame[~repeated].reset_index(drop=True), int(repeated.sum())


def write_report(csv_paths, markdown_path):
    """Merge the CSVs of one or more runs (and their ``.info.json``) into one report."""
    frames, runs = [], []
    for path in map(Path, csv_paths):
        frames.append(pd.read_csv(path))
        info_path = path.with_suffix(".info.json")
        if info_path.exists():
            runs.append(json.loads(info_path.read_text()))
    frame, n_replaced = merge_runs(frames)
    text = report(frame, runs, n_replaced)
    Path(markdown_path).write_text(text)
    return frame, text


# ---------------------------------------------------------------- driver


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 small data sets, 1 seed, budget 8, teacher cv 3, no per-family chains",
    )
    parser.add_argument("--datasets", nargs="+", help="names (default: every data set)")
    parser.add_argument(
        "--seeds", type=int, default=3, help="number of seeds (default 3)"
    )
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seed of the first split, to finish an interrupted run (default 0)",
    )
    parser.add_argument("--families", nargs="+", default=list(DEFAULT_FAMILIES))
    parser.add_argument(
        "--budget", type=int, default=16, help="fits of each tuned search"
    )
    parser.add_argument("--teacher-cv", type=int, default=5)
    parser.add_argument(
        "--search-max-rows",
        type=int,
        default=50_000,
        help="above this many rows, skip the tuned searches, the grid, the ablations "
        "and DeepBridge (default 50,000)",
    )
    parser.add_argument("--no-grid", action="store_true")
    parser.add_argument(
        "--no-ablations", action="store_true", help="HPMKDClassifier defaults only"
    )
    parser.add_argument("--no-chain", action="store_true")
    parser.add_argument(
        "--fresh-memory",
        action="store_true",
        help="also measure HPMKDClassifier's peak memory alone in a new process "
        "(one more fit per split)",
    )
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--no-hpmkd", action="store_true")
    parser.add_argument(
        "--only-variants",
        nargs="+",
        choices=HPMKD_VARIANTS,
        metavar="VARIANT",
        help="fit the teacher and only these HPMKDClassifier rows (and their "
        "matched baselines), and keep only those rows: to add a variant to the "
        "CSVs of earlier runs",
    )
    parser.add_argument(
        "--matched-budget-cap",
        type=int,
        default=200,
        help="largest budget of the tuned hard-label search matched to HPMKDClassifier",
    )
    parser.add_argument(
        "--with-deepbridge", metavar="VENV", help="venv with deepbridge 2.0.0"
    )
    parser.add_argument(
        "--only-deepbridge",
        action="store_true",
        help="fit the teacher and only the DeepBridge row, at any number of rows, "
        "and keep only that row: to add DeepBridge to the CSVs of earlier runs",
    )
    parser.add_argument("--out", default=str(HERE / "results" / "results.csv"))
    parser.add_argument("--markdown", help="markdown report (default: --out with .md)")
    parser.add_argument(
        "--report-only",
        nargs="+",
        metavar="CSV",
        help="run nothing: merge these CSVs of earlier runs into one report",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets = args.datasets or list(QUICK_DATASETS)
        args.seeds = 1
        args.budget = min(args.budget, 8)
        args.teacher_cv = min(args.teacher_cv, 3)
        args.no_chain = True
    if args.only_deepbridge and not args.with_deepbridge:
        parser.error("--only-deepbridge needs --with-deepbridge VENV")
    if args.budget < 2:
        parser.error("--budget must be at least 2 (one candidate and the refit)")
    unknown = [name for name in args.families if name not in FAMILIES]
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {sorted(FAMILIES)}")
    return args


def _guarded(split, method, family, func, *args):
    """Run one row; a failure becomes a row with the error as its note."""
    try:
        func(split, *args)
    except Exception as exc:  # noqa: BLE001 - one broken row must not end a long run
        split.add(
            method,
            family,
            None,
            None,
            np.nan,
            np.nan,
            np.nan,
            note=f"error: {exc!r}"[:160],
        )


def _hpmkd_rows(split, variants, args, memory_path):
    for variant in variants:
        _guarded(
            split,
            variant,
            "",
            hpmkd_row,
            variant,
            memory_path,
            args.matched_budget_cap,
            args.fresh_memory,
        )


def run_split(split, args, memory_path):
    fit_shared_teacher(split, args.teacher_cv)
    if args.only_variants or args.only_deepbridge:
        if args.only_variants:
            _hpmkd_rows(split, args.only_variants, args, memory_path)
        if args.only_deepbridge:
            _guarded(split, "deepbridge_hpm", "", deepbridge_row, args.with_deepbridge)
        split.rows = [row for row in split.rows if row["method"] != "teacher"]
        return
    searches = len(split.dataset.y) <= args.search_max_rows
    for name in args.families:
        _guarded(split, "hard_default", name, hard_default, name)
        _guarded(split, "kd_default", name, kd_default, name)
        if not searches:
            continue
        _guarded(split, "kd_noaug", name, kd_default, name, "kd_noaug", None)
        _guarded(split, "hard_tuned", name, hard_tuned, name, args.budget)
        _guarded(split, "kd_tuned", name, kd_tuned, name, args.budget)
        if not args.no_chain:
            _guarded(split, "chain", name, chain, name)
    if searches and not args.no_grid:
        _guarded(split, "grid", "", grid, args.families)
    if not args.no_hpmkd:
        variants = (
            HPMKD_VARIANTS if searches and not args.no_ablations else HPMKD_VARIANTS[:1]
        )
        _hpmkd_rows(split, variants, args, memory_path)
    if args.with_deepbridge and searches:
        _guarded(split, "deepbridge_hpm", "", deepbridge_row, args.with_deepbridge)


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child)
        return None
    if args.report_only:
        markdown_path = Path(args.markdown or Path(args.out).with_suffix(".md"))
        frame, text = write_report(args.report_only, markdown_path)
        print(text)
        return frame
    names = args.datasets or _datasets.all_names()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    markdown_path = Path(args.markdown) if args.markdown else out.with_suffix(".md")
    command = "python benchmarks/run.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    info = machine_info()
    # The warm-start variant reads and grows this optimisation memory: data
    # sets earlier in the run seed the search on later ones.
    memory_path = out.with_suffix(".hpmkd_memory.json")
    memory_path.unlink(missing_ok=True)
    rows = []
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", message=".*least populated class.*")
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        for name in names:
            dataset = _datasets.load(name)
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                split = make_split(dataset, seed)
                run_split(split, args, memory_path)
                rows.extend(split.rows)
                pd.DataFrame(rows).reindex(columns=COLUMNS).to_csv(out, index=False)
    info["wall time of the run"] = f"{time.perf_counter() - start:.0f} s"
    info["command"] = command
    out.with_suffix(".info.json").write_text(json.dumps(info, indent=1))
    frame, text = write_report([out], markdown_path)
    print(text)
    print(f"Wrote {out} and {markdown_path}", file=sys.stderr)
    return frame


if __name__ == "__main__":
    main()
