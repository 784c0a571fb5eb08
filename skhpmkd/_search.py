"""Adaptive configuration search for HPM-KD.

The space is student x size x temperature x alpha. The search runs successive
halving over nested, stratified subsets of the fit rows (boosted students also
get fewer rounds at a raised learning rate), then lets a Gaussian-process
surrogate propose full-data configurations by expected improvement until the
best stops improving or the budget of full-data fits is spent. Every
configuration is fitted with a seed derived from the search seed and the
configuration itself, so a configuration gets the same score whatever order,
batch or worker evaluates it in.
"""

import importlib.util
import math
import sys
import time
import warnings
import zlib

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.metrics import log_loss
from sklearn.tree import DecisionTreeClassifier

from ._base import imputed_logistic, imputed_mlp
from ._frames import with_feature_names
from ._parallel import one_thread, parallel_map
from ._sample_weight import weights_of
from ._soft_targets import (
    aligned_proba,
    boosting_rounds_parameter,
    fit_soft_student,
    is_boosted,
    is_round_based,
    learning_rate,
    n_boosting_rounds,
    student_labels,
)
from ._teachers import seed_estimator
from .metrics import kl_divergence, top1_agreement

FAMILIES = ("lr", "dt", "rf", "hgb", "xgboost", "lightgbm", "mlp")
TEMPERATURES = (0.5, 1.0, 2.0, 3.0)
ALPHAS = (0.3, 0.5, 0.7, 0.9)
N_SIZES = 4
ETA = 3
MAX_LEVELS = 3
MIN_LEVEL_ROWS = 150
_LATENCY_ROWS = 1_000
_MAX_BOOSTED_LEARNING_RATE = 0.5
_N_LEADERS = 2
_FAMILY_MODULE = {"xgboost": "xgboost", "lightgbm": "lightgbm"}


def installed_families():
    """The built-in student families whose library is installed."""
    return [
        family
        for family in FAMILIES
        if family not in _FAMILY_MODULE
        or importlib.util.find_spec(_FAMILY_MODULE[family]) is not None
    ]


def default_families():
    """The student families searched when the user names none.

    Logistic regression, a decision tree and one booster: XGBoost when it is
    installed (it learns the KD loss exactly and predicts two to five times
    faster than LightGBM or HistGradientBoosting of the same size), else
    LightGBM, else HistGradientBoosting. Forests are large to deploy, and
    HistGradientBoosting learns soft targets only through duplicated rows,
    which measured worse than its hard-label fit; both stay available by name.
    """
    installed = installed_families()
    booster = next(name for name in ("xgboost", "lightgbm", "hgb") if name in installed)
    return ["lr", "dt", booster]


def family_student(family, size):
    """Unfitted student of a built-in family at size level ``0..N_SIZES-1``.

    Sizes grow with the level: inverse regularisation for logistic
    regression (its coefficient count is fixed by the data), depth for trees
    and forests, leaves and rounds for boosting, hidden units for the
    one-hidden-layer perceptron. Library students run one thread each:
    parallelism comes from the search's workers.

    Examples
    --------
    >>> from skhpmkd._search import family_student
    >>> family_student("dt", 2)
    DecisionTreeClassifier(max_depth=6)
    """
    if family == "lr":
        C = (0.01, 0.1, 1.0, 10.0)[size]
        return imputed_logistic(C)
    if family == "dt":
        return DecisionTreeClassifier(max_depth=(3, 4, 6, 8)[size])
    if family == "rf":
        return RandomForestClassifier(
            n_estimators=(20, 30, 50, 50)[size],
            max_depth=(4, 6, 10, 16)[size],
            n_jobs=1,
        )
    if family == "hgb":
        return HistGradientBoostingClassifier(
            max_iter=(30, 60, 100, 150)[size],
            max_leaf_nodes=(4, 8, 16, 31)[size],
            learning_rate=0.2,
            early_stopping=False,
        )
    if family == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(
            n_estimators=(30, 60, 100, 150)[size],
            max_depth=(2, 3, 4, 5)[size],
            learning_rate=0.2,
            tree_method="hist",
            n_jobs=1,
        )
    if family == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=(30, 60, 100, 150)[size],
            num_leaves=(4, 8, 16, 31)[size],
            learning_rate=0.2,
            n_jobs=1,
            verbose=-1,
        )
    if family == "mlp":
        return imputed_mlp((8, 16, 32, 64)[size])
    raise ValueError(
        f"Unknown student family {family!r}; the families are {list(FAMILIES)}."
    )


class SearchSpace:
    """Student x size x temperature x alpha, with a numeric encoding.

    Parameters
    ----------
    students : list of (str, estimator or None)
        Named students. ``None`` stands for the built-in family of that name,
        searched over ``N_SIZES`` sizes; an estimator is used at its own size.
    temperatures : sequence of float
        Temperatures searched (a single value skips the dimension).
    alphas : sequence of float
        Soft-target weights searched.
    """

    def __init__(self, students, temperatures, alphas):
        self.students = list(students)
        self.temperatures = tuple(float(t) for t in temperatures)
        self.alphas = tuple(float(a) for a in alphas)
        self.names = [name for name, _ in self.students]
        self._estimators = dict(self.students)
        configs = []
        for name, estimator in self.students:
            sizes = range(N_SIZES) if estimator is None else [None]
            for size in sizes:
                for temperature in self.temperatures:
                    for alpha in self.alphas:
                        configs.append(
                            {
                                "student": name,
                                "size": size,
                                "temperature": temperature,
                                "alpha": alpha,
                            }
                        )
        self.configs = configs

    def __len__(self):
        return len(self.configs)

    def center(self, name):
        """The configuration tried first for a student: mid size, mid T, high alpha."""
        size = None if self._estimators[name] is not None else 1
        temperature = min(self.temperatures, key=lambda t: abs(math.log(t / 2.0)))
        alpha = min(self.alphas, key=lambda a: abs(a - 0.7))
        return {
            "student": name,
            "size": size,
            "temperature": temperature,
            "alpha": alpha,
        }

    def build(self, config):
        """Unfitted student of a configuration."""
        estimator = self._estimators[config["student"]]
        if estimator is None:
            return family_student(config["student"], config["size"])
        return clone(estimator)

    def accept(self, config):
        """The configuration in this space (nearest T and alpha), or ``None``."""
        name = config.get("student")
        if name not in self._estimators:
            return None
        size = config.get("size")
        if self._estimators[name] is None:
            if not isinstance(size, int) or not 0 <= size < N_SIZES:
                return None
        else:
            size = None
        try:
            temperature = float(config["temperature"])
            alpha = float(config["alpha"])
        except (TypeError, ValueError):
            return None
        if not (0 < temperature < math.inf and math.isfinite(alpha)):
            return None
        return {
            "student": name,
            "size": size,
            "temperature": min(
                self.temperatures, key=lambda t: abs(math.log(t / temperature))
            ),
            "alpha": min(self.alphas, key=lambda a: abs(a - alpha)),
        }

    def encode(self, configs, resources):
        """Rows of numbers for the surrogate: one-hot student, size, log T, alpha, log resource."""
        rows = []
        for config, resource in zip(configs, resources):
            onehot = [float(config["student"] == name) for name in self.names]
            size = 0.5 if config["size"] is None else config["size"] / (N_SIZES - 1)
            rows.append(
                onehot
                + [
                    size,
                    math.log(config["temperature"]) / math.log(3.0),
                    config["alpha"],
                    math.log(resource) / math.log(ETA**2),
                ]
            )
        return np.asarray(rows)


def config_seed(base_seed, config):
    """Seed of a configuration: independent of when or where it is evaluated."""
    key = repr(sorted(config.items())).encode()
    return (int(base_seed) + zlib.crc32(key)) % (2**31 - 1)


def describe(config):
    """Short text of a configuration for progress lines."""
    size = "" if config["size"] is None else f" size={config['size']}"
    return (
        f"{config['student']}{size} T={config['temperature']:g} "
        f"alpha={config['alpha']:g}"
    )


class _StudentView(ClassifierMixin, BaseEstimator):
    """Presents a fitted student with original labels to a scorer."""

    def __init__(self, student=None, classes=None):
        self.student = student
        self.classes = classes

    @property
    def classes_(self):
        return self.classes

    def predict_proba(self, X):
        return aligned_proba(
            self.student, X, student_labels(self.student, self.classes)
        )

    def predict(self, X):
        return self.classes[np.argmax(self.predict_proba(X), axis=1)]


def scale_rounds(student, resource):
    """Fewer boosting rounds at a raised learning rate for a low-fidelity fit.

    Rounds shrink with the square root of the row share; the learning rate
    grows by the same factor (capped), so the low-fidelity model takes about
    the same total step.
    """
    if resource >= 1.0 or not is_round_based(student):
        return student
    rounds = n_boosting_rounds(student)
    new_rounds = max(10, int(math.ceil(rounds * math.sqrt(resource))))
    rate_name, rate = learning_rate(student)
    return student.set_params(
        **{
            boosting_rounds_parameter(student): new_rounds,
            rate_name: min(rate * rounds / new_rounds, _MAX_BOOSTED_LEARNING_RATE),
        }
    )


def fit_config(
    student,
    X,
    targets,
    y,
    classes,
    config,
    schedule,
    feature_names=None,
    sample_weight=None,
):
    """Fit one configuration's student on soft targets; return it fitted."""
    temperature = config["temperature"]
    scheduled = schedule and is_boosted(student) and temperature != 1.0
    fitted, _ = fit_soft_student(
        student,
        X,
        targets,
        y,
        classes,
        alpha=config["alpha"],
        temperature=temperature,
        schedule="cosine" if scheduled else "constant",
        final_temperature=1.0,
        feature_names=feature_names,
        sample_weight=sample_weight,
    )
    return fitted


def predict_latency(student, X):
    """Seconds ``predict_proba`` takes per 1,000 rows (best of three).

    A student fitted with feature names gets its columns named before the
    clock starts.
    """
    reps = max(1, int(math.ceil(_LATENCY_ROWS / max(len(X), 1))))
    rows = np.tile(X, (reps, 1))[:_LATENCY_ROWS]
    rows = with_feature_names(rows, getattr(student, "feature_names_in_", None))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        student.predict_proba(rows)
        times.append(time.perf_counter() - start)
    return min(times) * _LATENCY_ROWS / len(rows)


def evaluate_config(student, data, rows, config, resource, settings):
    """Fit a configuration on a subset of rows and score it on the validation rows.

    With row weights in ``data`` (``w_fit``, ``w_val``), the student is fitted
    with them and scored with them: accuracy, log-loss and the scorer's
    score; agreement and KL divergence with the teacher stay unweighted.
    Returns a dict of the measurements (the fitted student under ``"model"``).
    """
    X_fit, targets, y_fit = data["X_fit"], data["targets"], data["y_fit"]
    w_fit, w_val = data.get("w_fit"), data.get("w_val")
    classes = data["classes"]
    student = scale_rounds(student, resource)
    start = time.perf_counter()
    fitted = fit_config(
        student,
        X_fit[rows],
        targets[rows],
        y_fit[rows],
        classes,
        config,
        settings["schedule"],
        feature_names=settings.get("feature_names"),
        sample_weight=weights_of(w_fit, rows),
    )
    fit_time = time.perf_counter() - start
    X_val, y_val = data["X_val"], data["y_val"]
    proba = aligned_proba(fitted, X_val, student_labels(fitted, classes))
    proba = proba / proba.sum(axis=1, keepdims=True)
    labels = np.arange(len(classes))
    hits = np.argmax(proba, axis=1) == y_val
    result = {
        "accuracy": float(np.average(hits, weights=w_val)),
        "log_loss": float(log_loss(y_val, proba, labels=labels, sample_weight=w_val)),
        "agreement": top1_agreement(data["val_targets"], proba),
        "kl": kl_divergence(data["val_targets"], proba),
        "fit_time": fit_time,
        "n_rows": int(len(rows)),
        "n_rounds": n_boosting_rounds(student) if is_round_based(student) else 0,
        "model": fitted,
    }
    scorer = settings["scorer"]
    if scorer is None:
        result["score"] = result["accuracy"]
    else:
        view = _StudentView(fitted, classes)
        try:
            weight = {} if w_val is None else {"sample_weight": w_val}
            value = scorer(view, X_val, classes[y_val], **weight)
        except ValueError as error:
            raise ValueError(
                _scoring_failed(settings["scoring"], error, classes, y_val)
            ) from error
        result["score"] = _single_number(value, settings["scoring"])
    # The latency is measured by the caller, after the batch of fits.
    result["size"] = student_size(fitted, settings)
    return result


def _scoring_failed(scoring, error, classes, y_val):
    """Why ``scoring`` raised ``error`` on the held-out rows, as a message."""
    missing = np.setdiff1d(np.arange(len(classes)), y_val)
    if len(missing):
        return (
            f"The scoring failed on the validation rows, which hold no row of "
            f"the classes {classes[missing].tolist()} (too rare to be split "
            f"between fitting and validation); scoring=None (accuracy) "
            f"works without them. The scorer said: {error}"
        )
    hint = ""
    if len(classes) > 2:
        hint = (
            "; a metric of binary tasks needs its multiclass form, such as "
            "'roc_auc_ovr' or 'f1_macro'"
        )
    return (
        f"scoring={scoring!r} failed on the held-out rows of this "
        f"{len(classes)}-class task{hint}. The scorer said: {error}"
    )


def _single_number(value, scoring):
    """``value`` as a float; raise unless ``scoring`` returned one number."""
    if np.ndim(value) == 0:
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    text = repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    raise ValueError(
        f"scoring={scoring!r} must return a single number, as a scikit-learn "
        f"scorer does; it returned {text}."
    )


def deployment_cost(student, X_val, settings):
    """Size and ``predict_proba`` seconds per 1,000 rows of a fitted student.

    The latency is measured only under a ``max_latency`` bound (NaN without
    one), the size only with a ``size_of`` (-1 without one).
    """
    return student_size(student, settings), student_latency(student, X_val, settings)


def student_latency(student, X_val, settings):
    """``predict_proba`` seconds per 1,000 rows on one thread; NaN without a bound.

    Call it when no other fit is running: a latency timed beside busy
    workers would be too slow.
    """
    if settings["max_latency"] is None:
        return np.nan
    with one_thread():
        return predict_latency(student, X_val)


def student_size(student, settings):
    """Size of a fitted student (see :func:`deployment_cost`)."""
    size_of = settings["size_of"]
    try:
        size = int(size_of(student)) if size_of is not None else -1
    except ValueError as error:
        # A student of unknown size (naive Bayes, nearest neighbours) is
        # fine unless a size bound needs its size.
        if settings["max_size"] is not None:
            raise ValueError(
                f"max_student_size (a bound of {settings['max_size']} nodes) needs "
                f"the size of every student. {error} Remove the bound, or the "
                "student."
            ) from None
        size = -1
    return size


def bound_excess(size, latency, settings):
    """The bounds of ``settings`` that ``size`` and ``latency`` exceed, as text.

    Empty when the student is within every bound.
    """
    excess = []
    if settings["max_size"] is not None and size > settings["max_size"]:
        excess.append(f"size {size} > {settings['max_size']}")
    if settings["max_latency"] is not None and latency > settings["max_latency"]:
        excess.append(f"latency {latency:.3g} s > {settings['max_latency']} s")
    return excess


def unmet_bounds(sizes, latencies, settings):
    """For an error when no student meets the bounds of ``settings``.

    Returns the parameter names of the bounds, the bounds as text and, for
    each, the best that ``sizes`` or ``latencies`` reached, as text: the
    bounds that no student meets, or every bound when each is met by some
    student but none meets them all.
    """
    unmet = []
    if settings["max_size"] is not None:
        unmet.append(
            (
                min(sizes) > settings["max_size"],
                "max_student_size",
                f"max_student_size={settings['max_size']} nodes",
                f"the smallest has size {min(sizes)}",
            )
        )
    if settings["max_latency"] is not None:
        unmet.append(
            (
                min(latencies) > settings["max_latency"],
                "max_latency",
                f"max_latency={settings['max_latency']} s per 1,000 rows",
                f"the fastest takes {min(latencies):.3g} s",
            )
        )
    if any(alone for alone, *_ in unmet):
        unmet = [bound for bound in unmet if bound[0]]
    _, names, bounds, best = zip(*unmet)
    return list(names), list(bounds), list(best)


def _evaluate_job(student, data, rows, config, resource, settings):
    # Students are small and fitted many times: one thread each avoids the
    # OpenMP oversubscription that makes HGB many times slower on busy cores.
    with warnings.catch_warnings(), one_thread():
        # Tiny low-fidelity subsets make lbfgs stop early; the score says so.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return evaluate_config(student, data, rows, config, resource, settings)


def nested_subsets(y, resources, random_state):
    """Stratified, nested row subsets: one per resource share.

    Each class contributes the first ``ceil(share * n_class)`` of its rows in a
    random order, so a smaller subset lies inside every larger one.
    """
    order = random_state.permutation(len(y))
    by_class = [order[y[order] == code] for code in np.unique(y)]
    subsets = []
    for resource in resources:
        parts = [
            rows[: max(1, int(math.ceil(resource * len(rows))))] for rows in by_class
        ]
        subsets.append(np.sort(np.concatenate(parts)))
    return subsets


def fidelity_levels(n_rows, n_classes):
    """Row shares ``[..., 1/9, 1/3, 1]`` while the smallest keeps enough rows."""
    levels = [1.0]
    min_rows = max(MIN_LEVEL_ROWS, 20 * n_classes)
    while len(levels) < MAX_LEVELS and n_rows * levels[0] / ETA >= min_rows:
        levels.insert(0, levels[0] / ETA)
    return levels


def halving_cost(n_configs, levels):
    """Full-fit equivalents of successive halving from ``n_configs`` configurations."""
    cost, n = 0.0, n_configs
    for level in levels:
        cost += n * level
        n = max(1, int(math.ceil(n / ETA)))
    return cost


def _rank_key(result):
    """Order of results: within the bounds first, then score, then lower log-loss.

    A NaN score (a scorer that failed) ranks below every other, as in
    :class:`~sklearn.model_selection.GridSearchCV`.
    """
    return (result["feasible"], _ranked_score(result["score"]), -result["log_loss"])


def _ranked_score(score):
    return -np.inf if np.isnan(score) else score


def _best_first(results):
    """The results within the bounds, best first; ties keep their order."""
    return sorted((r for r in results if r["feasible"]), key=_rank_key, reverse=True)


def _better(first, second):
    """Whether result ``first`` beats ``second``: feasible, score, then log-loss."""
    return second is None or _rank_key(first) > _rank_key(second)


class ConfigSearch:
    """Budgeted multi-fidelity search with surrogate proposals.

    Parameters
    ----------
    space : SearchSpace
        Configurations to search.
    data : dict
        ``X_fit``, ``targets``, ``y_fit`` (training rows, then transfer rows
        with label ``-1``), ``n_train`` (number of training rows),
        ``X_val``, ``y_val``, ``val_targets`` and ``classes``; optionally
        row weights ``w_fit`` and ``w_val`` (see :func:`evaluate_config`).
    settings : dict
        ``scorer``, ``schedule``, ``size_of``, ``max_size``, ``max_latency``.
    budget : float
        Full-data fits the search may spend (low-fidelity fits count by
        their share of rows); one is kept for the final refit.
    patience : int
        Surrogate proposals without improvement before the search stops.
    warm_configs : list of dict
        Configurations to evaluate first at full fidelity; when given,
        successive halving is skipped.
    n_jobs : int or None
        Workers for each batch of fits.
    random_state : numpy.random.RandomState
        Source of the search's seeds.
    log : callable or None
        Receives one progress line per stage.
    """

    def __init__(
        self,
        space,
        data,
        settings,
        *,
        budget,
        patience,
        warm_configs,
        n_jobs,
        random_state,
        log=None,
    ):
        self.space = space
        self.data = data
        self.settings = settings
        self.budget = budget
        self.patience = patience
        self.warm_configs = warm_configs
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.log = log

    def start(self):
        """Draw the search's seeds and its nested row subsets; no fit yet."""
        rng = self.random_state
        self.base_seed_ = rng.randint(np.iinfo(np.int32).max)
        self._gp_seed = rng.randint(np.iinfo(np.int32).max)
        y_train = self.data["y_fit"][: self.data["n_train"]]
        n_classes = len(self.data["classes"])
        self.levels = fidelity_levels(len(y_train), n_classes)
        train_subsets = nested_subsets(y_train, self.levels, rng)
        n_transfer = len(self.data["y_fit"]) - self.data["n_train"]
        self._rows = {}
        for level, subset in zip(self.levels, train_subsets):
            transfer = self.data["n_train"] + np.arange(int(round(level * n_transfer)))
            self._rows[level] = np.concatenate([subset, transfer])
        self.records = []
        self.spent = 0.0
        self.best = None
        return self

    def run(self):
        """Run the search; return the list of result records, in fit order."""
        self.start()
        available = self.budget - 1.0
        if self.warm_configs:
            n_warm = max(1, int(available))
            self.evaluate(self.warm_configs[:n_warm], 1.0, "warm_start", 0)
        else:
            self._halving(available / 2)
        self._surrogate(available)
        return self.records

    def evaluate(self, configs, level, stage, rung):
        """Fit and score ``configs`` on the rows of fidelity ``level``, in parallel.

        Returns their result records, which are also appended to ``records``.
        """
        jobs = []
        for config in configs:
            student = self.space.build(config)
            seed = config_seed(self.base_seed_, config)
            seed_estimator(student, np.random.RandomState(seed))
            jobs.append(
                (student, self.data, self._rows[level], config, level, self.settings)
            )
        results = parallel_map(_evaluate_job, jobs, self.n_jobs)
        for config, result in zip(configs, results):
            # Timed here, one student after another, so that no worker's fit
            # slows the prediction down: the same with any n_jobs.
            result["latency"] = student_latency(
                result["model"], self.data["X_val"], self.settings
            )
            result["feasible"] = not bound_excess(
                result["size"], result["latency"], self.settings
            )
            result.update(config=config, resource=level, stage=stage, rung=rung)
            if level < 1.0:
                result["model"] = None
            self.records.append(result)
            self.spent += level
            if level == 1.0 and _better(result, self.best):
                self.best = result
        return results

    def _full_data(self):
        """Results scored on all the fit rows so far."""
        return [r for r in self.records if r["resource"] == 1.0]

    def _full_data_configs(self):
        """Configurations scored on all the fit rows so far."""
        return [r["config"] for r in self._full_data()]

    def _smallest_config(self, name):
        """``name``'s smallest size at the best configuration's T and alpha."""
        return self.space.accept({**self.best["config"], "student": name, "size": 0})

    def ranked(self):
        """Full-data results within the bounds, best first: ``best`` leads.

        Ties keep the order of fitting, as ``best`` does.
        """
        return _best_first(self._full_data())

    def smaller(self, configs):
        """Score the next smaller size of each configuration, on all the fit rows.

        Sizes already scored are skipped (fitted before, or out of the
        bounds); a student given as an estimator has its own size only.
        Returns the new results within the bounds, best first.
        """
        scored = self._full_data_configs()
        smaller = []
        for config in configs:
            if config["size"] is None:
                continue
            for size in reversed(range(config["size"])):
                candidate = self.space.accept({**config, "size": size})
                if candidate is None or candidate in scored:
                    continue
                if candidate not in smaller:
                    smaller.append(candidate)
                break
        if not smaller:
            return []
        return _best_first(self.evaluate(smaller, 1.0, "surrogate", len(self.levels)))

    def smallest(self, configs):
        """Score the smallest size of each student not in ``configs``, on all the fit rows.

        For the students the search never took to all the rows; each is tried
        at the best configuration's temperature and alpha. Returns the new
        results within the bounds, best first.
        """
        tried = {config["student"] for config in configs}
        scored = self._full_data_configs()
        candidates = []
        for name in self.space.names:
            candidate = self._smallest_config(name)
            if name not in tried and candidate is not None and candidate not in scored:
                candidates.append(candidate)
        if not candidates:
            return []
        return _best_first(
            self.evaluate(candidates, 1.0, "surrogate", len(self.levels))
        )

    def _say(self, message):
        if self.log is not None:
            self.log(message)

    def _halving(self, allowance):
        names = self.space.names
        # Every student gets a look when one surrogate proposal still fits.
        allowance = max(
            allowance,
            min(halving_cost(len(names), self.levels), self.budget - 2.0),
        )
        n_configs = min(len(names), len(self.space))
        while (
            n_configs < len(self.space)
            and halving_cost(n_configs + 1, self.levels) <= allowance
        ):
            n_configs += 1
        while n_configs > 1 and halving_cost(n_configs, self.levels) > allowance:
            n_configs -= 1
        configs = [self.space.center(name) for name in names][:n_configs]
        others = [c for c in self.space.configs if c not in configs]
        extra = self.random_state.permutation(len(others))[: n_configs - len(configs)]
        configs += [others[i] for i in sorted(extra)]
        rungs = list(enumerate(self.levels))
        screening = n_configs < len(names)
        if screening:
            # Too small a budget to carry every student up the rungs: each is
            # still scored on the smallest subset, and the best goes straight
            # to all the rows (with a single rung, each is scored on all).
            configs = [self.space.center(name) for name in names]
            rungs = [rungs[0], rungs[-1]] if len(rungs) > 1 else rungs
        for rung, level in rungs:
            start = time.perf_counter()
            n_planned = len(configs)
            results = self.evaluate(configs, level, "halving", rung)
            if rung == rungs[0][0]:
                shrunk = self._shrunk(configs, results)
                if shrunk:
                    self._say(
                        "over the bounds at every size tried, scored at their "
                        f"smallest: {', '.join(c['student'] for c in shrunk)}"
                    )
                    configs = configs + shrunk
                    results = results + self.evaluate(shrunk, level, "halving", rung)
            ranked = sorted(
                range(len(results)), key=lambda i: _rank_key(results[i]), reverse=True
            )
            top = results[ranked[0]]
            self._say(
                f"halving rung {rung + 1}/{len(self.levels)}: {len(configs)} configs on "
                f"{len(self._rows[level])} rows in {time.perf_counter() - start:.1f} s, "
                f"best {top['score']:.4f} ({describe(configs[ranked[0]])})"
            )
            keep = 1 if screening else max(1, int(math.ceil(n_planned / ETA)))
            configs = [configs[i] for i in sorted(ranked[:keep])]

    def _shrunk(self, configs, results):
        """Smallest sizes of the students whose every result exceeds the bounds.

        A student whose middle size is too large may still fit the bounds
        when smaller; without this look halving would drop it unseen.
        """
        over = {}
        for config, result in zip(configs, results):
            name = config["student"]
            over[name] = over.get(name, True) and not result["feasible"]
        shrunk = []
        for config in configs:
            name = config["student"]
            if over.pop(name, False) and config["size"] is not None:
                smallest = self.space.accept({**config, "size": 0})
                if smallest not in configs:
                    shrunk.append(smallest)
        return shrunk

    def _surrogate_model(self):
        X = self.space.encode(
            [r["config"] for r in self.records], [r["resource"] for r in self.records]
        )
        y = np.array(
            [r["score"] if r["feasible"] else np.nan for r in self.records], dtype=float
        )
        finite = np.isfinite(y)
        if finite.sum() < 2:
            return None
        lower = np.nanmin(y)
        y = np.where(finite, y, lower)
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=np.ones(X.shape[1]), length_scale_bounds=(1e-2, 1e2), nu=2.5
        ) + WhiteKernel(1e-3, (1e-6, 1e-1))
        model = GaussianProcessRegressor(
            kernel=kernel, normalize_y=True, random_state=self._gp_seed
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(X, y)

    def _neighbours(self, config):
        """Configurations one step away in one dimension, or another student."""
        space = self.space
        steps = []
        for key, values in (
            ("temperature", space.temperatures),
            ("alpha", space.alphas),
            ("size", range(N_SIZES) if config["size"] is not None else [None]),
        ):
            values = list(values)
            index = values.index(config[key])
            for other in (index - 1, index + 1):
                if 0 <= other < len(values):
                    steps.append({**config, key: values[other]})
        for name in space.names:
            if name != config["student"]:
                steps.append(space.accept({**config, "student": name}))
        return [step for step in steps if step is not None]

    def _propose(self):
        full = self._full_data()
        done = [r["config"] for r in full]
        # Proposals refine around the best full-data configurations, among
        # the students that earned a full-data fit: halving has already
        # ranked the students on cheaper fits.
        promising = {config["student"] for config in done}
        leaders = sorted(full, key=_rank_key, reverse=True)[:_N_LEADERS]
        candidates = []
        for leader in leaders:
            for config in self._neighbours(leader["config"]):
                if (
                    config not in done
                    and config not in candidates
                    and config["student"] in promising
                ):
                    candidates.append(config)
        if not candidates:
            candidates = [c for c in self.space.configs if c not in done]
        if not candidates:
            return None
        model = self._surrogate_model()
        if model is None:
            return candidates[self.random_state.randint(len(candidates))]
        mean, std = model.predict(
            self.space.encode(candidates, [1.0] * len(candidates)), return_std=True
        )
        incumbent = self.best["score"] if self.best is not None else np.max(mean)
        std = np.maximum(std, 1e-9)
        z = (mean - incumbent) / std
        improvement = (mean - incumbent) * norm.cdf(z) + std * norm.pdf(z)
        return candidates[int(np.argmax(improvement))]

    def _surrogate(self, available):
        stale = 0
        proposal = 0
        while self.spent + 1.0 <= available + 1e-9 and stale < self.patience:
            config = self._propose()
            if config is None:
                break
            previous = self.best
            start = time.perf_counter()
            (result,) = self.evaluate([config], 1.0, "surrogate", len(self.levels))
            proposal += 1
            improved = self.best is not previous
            stale = 0 if improved else stale + 1
            self._say(
                f"surrogate proposal {proposal}: {describe(config)} -> "
                f"{result['score']:.4f} in {time.perf_counter() - start:.1f} s"
                + (" (new best)" if improved else "")
            )
        if not self.best["feasible"]:
            self._satisfy_constraints()

    def _satisfy_constraints(self):
        """Fit the smallest size of each student until one meets the bounds.

        Students are tried in the order of their best score so far, at the
        best configuration's temperature and alpha.
        """
        best_of = {}
        for record in self.records:
            name = record["config"]["student"]
            score = _ranked_score(record["score"])
            best_of[name] = max(best_of.get(name, -np.inf), score)
        order = sorted(self.space.names, key=lambda name: -best_of.get(name, -np.inf))
        done = self._full_data_configs()
        for name in order:
            config = self._smallest_config(name)
            if config in done:
                continue
            (result,) = self.evaluate([config], 1.0, "surrogate", len(self.levels))
            self._say(
                f"smallest {describe(config)}: size {result['size']}, "
                + (
                    "meets the bounds"
                    if result["feasible"]
                    else "still too large or slow"
                )
            )
            if result["feasible"]:
                return
        full = self._full_data()
        _, bounds, best = unmet_bounds(
            [r["size"] for r in full], [r["latency"] for r in full], self.settings
        )
        raise ValueError(
            f"No candidate student meets {' and '.join(bounds)}: of the students "
            f"scored on all the fit rows, {'; '.join(best)}."
        )


def default_log(message):
    """Write one progress line to standard error."""
    print(f"[HPMKDClassifier] {message}", file=sys.stderr, flush=True)
