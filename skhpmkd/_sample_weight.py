"""Row weights given to the models skhpmkd fits: teachers and students."""

import copy

import numpy as np
import sklearn
from sklearn import get_config
from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import get_scorer
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.fixes import parse_version
from sklearn.utils.validation import has_fit_parameter

from ._frames import take_rows


# The parameters through which scikit-learn's meta-estimators (calibration,
# bagging, boosting, stacking, voting, searches) hand the row weights to the
# learners they fit; gradient boosting fits its ``init`` estimator with them.
_SUB_LEARNER_PARAMS = (
    "estimator",
    "base_estimator",
    "estimators",
    "final_estimator",
    "init",
)

# Since scikit-learn 1.8 bagging draws its rows in proportion to the weights
# when its estimator's fit takes none; before, it refused them.
_BAGGING_DRAWS_BY_WEIGHT = parse_version(sklearn.__version__) >= parse_version("1.8")


def takes_sample_weight(estimator):
    """Whether ``estimator.fit`` takes ``sample_weight``, and every learner it
    fits uses them.

    See :func:`unweighted_learner`.
    """
    return unweighted_learner(estimator) is None


def unweighted_learner(estimator):
    """The learner of ``estimator`` that would not use row weights, or None.

    skhpmkd gives a pipeline's weights to its final step. A meta-estimator
    gives them to the learners it fits (``CalibratedClassifierCV`` only warns
    when its ``estimator`` cannot take them), so each must take them too,
    except a frozen one, which is not fitted, and the estimator of a bagging
    ensemble, which draws its rows by weight instead. A pipeline or a search
    among them gets them only under metadata routing; a search given the
    weights itself (or as a pipeline's final step) hands them on either way.
    """
    if isinstance(estimator, Pipeline):
        final = estimator.steps[-1][1]
        # A pipeline gives its final step ``sample_weight`` itself.
        return _unweighted_inside(final) if _is_search(final) else _unweighted(final)
    if _is_search(estimator):
        # Given ``sample_weight`` directly, a search hands it on to its
        # estimator, with or without metadata routing.
        return _unweighted_inside(estimator)
    if not _fit_takes_sample_weight(estimator):
        return estimator
    return _unweighted_inside(estimator)


def _is_search(estimator):
    """Whether ``estimator`` is a hyper-parameter search (``GridSearchCV``...)."""
    return isinstance(estimator, BaseSearchCV)


def _fit_takes_sample_weight(estimator):
    # Voting and stacking take the weights through ``**fit_params``.
    if isinstance(estimator, (VotingClassifier, StackingClassifier)):
        return True
    return has_fit_parameter(estimator, "sample_weight")


def _unweighted(learner):
    """:func:`unweighted_learner` of a learner a meta-estimator fits."""
    if isinstance(learner, FrozenEstimator):
        return None  # fitted by the user: its fit does nothing
    if _fit_takes_sample_weight(learner):
        return _unweighted_inside(learner)
    if _is_router(learner) and get_config()["enable_metadata_routing"]:
        # A pipeline or a search passes routed weights on to its learners.
        if isinstance(learner, Pipeline):
            return _unweighted(learner.steps[-1][1])
        return _unweighted_inside(learner)
    return learner


def _unweighted_inside(estimator):
    """The first learner fitted by ``estimator`` that would not use the weights."""
    bagging = isinstance(estimator, BaggingClassifier) and _BAGGING_DRAWS_BY_WEIGHT
    for learner in _sub_learners(estimator):
        if bagging and not has_fit_parameter(learner, "sample_weight"):
            continue
        found = _unweighted(learner)
        if found is not None:
            return found
    return None


def _is_router(learner):
    """Whether ``learner`` (a pipeline, a search) fits learners of its own, to
    which it passes routed weights on."""
    return isinstance(learner, Pipeline) or bool(_sub_learners(learner))


def _sub_learners(estimator):
    """The estimators ``estimator`` fits, from its learner parameters."""
    params = estimator.get_params(deep=False)
    return list(
        _estimators_in(params[name] for name in _SUB_LEARNER_PARAMS if name in params)
    )


def no_sample_weight(estimator, role):
    """The end of a message saying why ``estimator``, the ``role``, is refused."""
    learner = unweighted_learner(estimator)
    name = type(estimator).__name__
    if learner is estimator:
        return f"the {role} {name}.fit takes no sample_weight"
    inner = type(learner).__name__
    if _is_router(learner):
        return (
            f"the {role} {name} fits a {inner}, which passes sample_weight on "
            "only under metadata routing"
        )
    return f"the {role} {name} fits a {inner}, whose fit takes no sample_weight"


# The largest row weight of an XGBoost or LightGBM model, float32's largest
# value (2 - 2**-23) * 2**127: they hold the weights as float32. A float64
# above it rounds down to it, up to the halfway point 2**128 - 2**103, and to
# inf from there, which XGBoost refuses in a C++ error ("Weights must be
# positive values") and LightGBM takes as an infinite weight. skhpmkd passes
# the weights on unscaled (a transfer row weighs their mean, no larger).
MAX_BOOSTER_WEIGHT = float(np.finfo(np.float32).max)


def check_booster_weights(sample_weight, student, library):
    """Raise if a weight is larger than the boosted ``student`` can hold.

    ``library`` names the booster's library, as in "XGBoost".
    """
    large = sample_weight > MAX_BOOSTER_WEIGHT
    if large.any():
        raise ValueError(
            f"sample_weight holds {int(large.sum())} weight(s) above "
            f"{MAX_BOOSTER_WEIGHT!r}, the largest float32 (the largest: "
            f"{float(sample_weight.max())!r}); the {library} student "
            f"{type(student).__name__} holds row weights as float32, where they "
            "would be infinite. Scale the weights down."
        )


def positive_rows(X, sample_weight, *arrays):
    """``X``, ``sample_weight`` and ``arrays`` without the rows of weight zero.

    The weights come back as floats; without weights, everything comes back
    as it is.
    """
    if sample_weight is None:
        return (X, None, *arrays)
    sample_weight = np.asarray(sample_weight, dtype=float)
    kept = np.flatnonzero(sample_weight > 0)
    if len(kept) == len(sample_weight):
        return (X, sample_weight, *arrays)
    return (
        take_rows(X, kept),
        sample_weight[kept],
        *(np.asarray(array)[kept] for array in arrays),
    )


def weights_of(sample_weight, rows):
    """The weights of ``rows``; None without weights."""
    return None if sample_weight is None else sample_weight[rows]


def weightless_fold(sample_weight, splits):
    """Index of the first fold in ``splits`` whose training rows all have
    weight 0, or None."""
    for index, (train, _) in enumerate(splits):
        if not sample_weight[train].sum() > 0:
            return index
    return None


def check_fold_weights(sample_weight, splits, fitted):
    """Raise unless the training rows of every fold in ``splits`` have some weight.

    ``fitted`` names what the folds fit, as in "so the teacher cannot be
    fitted on it".
    """
    if sample_weight is None:
        return
    index = weightless_fold(sample_weight, splits)
    if index is not None:
        raise ValueError(
            f"Every one of the {len(splits[index][0])} training rows of "
            f"cross-validation fold {index + 1} (of {len(splits)}) has "
            f"sample_weight 0, so {fitted} cannot be fitted on it; give more rows "
            "a positive weight, or pass folds (cv) that mix them."
        )


def with_transfer_weights(sample_weight, n_transfer):
    """Row weights, then ``n_transfer`` new rows' weights: each new row stands
    for one row of the weighted data, so it weighs the mean weight of the rows
    of positive weight (a row of weight 0 counts as no row)."""
    positive = sample_weight[sample_weight > 0]
    mean = positive.mean() if positive.size else 0.0
    return np.concatenate([sample_weight, np.full(n_transfer, mean)])


def fit_weighted(estimator, X, y, sample_weight=None):
    """``estimator.fit(X, y)`` with row weights, pipelines and routing included.

    Without metadata routing a pipeline gets the weights as its final step's
    ``sample_weight``; under routing, every learner of ``estimator`` that
    takes them requests them (see :func:`request_sample_weight`).
    """
    if sample_weight is None:
        return estimator.fit(X, y)
    if get_config()["enable_metadata_routing"]:
        request_sample_weight(estimator)
    elif isinstance(estimator, Pipeline):
        final = estimator.steps[-1][0]
        return estimator.fit(X, y, **{f"{final}__sample_weight": sample_weight})
    return estimator.fit(X, y, sample_weight=sample_weight)


def request_sample_weight(estimator):
    """Let the weights reach every learner of ``estimator`` under metadata routing.

    Without routing, a pipeline gives the weights to its final step and a
    meta-estimator (calibration, bagging, voting, stacking) to its
    sub-estimators. Under routing they go only where requested, so every
    learner that takes ``sample_weight`` requests it; a pipeline's
    transformers that have no request of their own are told not to.
    """
    if isinstance(estimator, FrozenEstimator):
        return  # fitted by the user: its fit does nothing, and it is theirs
    if isinstance(estimator, Pipeline):
        *transformers, (_, final) = estimator.steps
        for _, step in transformers:
            if hasattr(step, "fit"):
                _decline_sample_weight(step)
        if hasattr(final, "fit"):
            request_sample_weight(final)
        return
    for sub in _sub_estimators(estimator):
        request_sample_weight(sub)
    if _is_search(estimator):
        _request_scoring_weights(estimator)
    if hasattr(estimator, "set_fit_request") and has_fit_parameter(
        estimator, "sample_weight"
    ):
        estimator.set_fit_request(sample_weight=True)


def _request_scoring_weights(search):
    """Let a search's scorer take the weights it is routed.

    A search routes ``sample_weight`` to its scorer as well as to its
    estimator; a scorer that has not requested it fails, and every candidate
    would score NaN. The search scores with the weights, as its estimator
    learns with them. A plain function as a scorer cannot request them: it
    is left as it is, and scores without them.
    """
    scoring = search.get_params(deep=False)["scoring"]
    if scoring is None:
        # The estimator's own score; a pipeline's is its final step's.
        scored = search.estimator
        while isinstance(scored, Pipeline):
            scored = scored.steps[-1][1]
        if hasattr(scored, "set_score_request"):
            scored.set_score_request(sample_weight=True)
        return
    if isinstance(scoring, (list, tuple, set)):
        scoring = {name: name for name in scoring}
    if isinstance(scoring, dict):
        weighted = {name: _weighted_scorer(value) for name, value in scoring.items()}
    else:
        weighted = _weighted_scorer(scoring)
    search.set_params(scoring=weighted)


def _weighted_scorer(scoring):
    """A copy of the scorer ``scoring`` (a name or a scorer) that requests
    ``sample_weight``; ``scoring`` itself when it cannot."""
    scorer = get_scorer(scoring) if isinstance(scoring, str) else copy.deepcopy(scoring)
    if hasattr(scorer, "set_score_request"):
        return scorer.set_score_request(sample_weight=True)
    return scoring


def _decline_sample_weight(estimator):
    """Tell every step of a transformer without a request of its own not to ask."""
    if isinstance(estimator, FrozenEstimator):
        return
    if hasattr(estimator, "set_fit_request"):
        requests = estimator.get_metadata_routing().fit.requests
        if "sample_weight" in requests and requests["sample_weight"] is None:
            estimator.set_fit_request(sample_weight=False)
        return
    # A router (a column transformer, a nested pipeline): its steps.
    for sub in _sub_estimators(estimator):
        _decline_sample_weight(sub)


def _sub_estimators(estimator):
    """The estimators among ``estimator``'s parameters, named lists included."""
    return _estimators_in(estimator.get_params(deep=False).values())


def _estimators_in(values):
    """The estimators among ``values``, named lists included."""
    for value in values:
        for part in value if isinstance(value, (list, tuple)) else [value]:
            # Named lists hold (name, estimator) or (name, estimator, columns).
            sub = part[1] if isinstance(part, tuple) and len(part) > 1 else part
            is_estimator = hasattr(sub, "fit") and hasattr(sub, "get_params")
            if is_estimator and not isinstance(sub, type):
                yield sub
