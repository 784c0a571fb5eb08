"""The configuration search: fidelity levels, subsets, space, and search vs grid."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from skhpmkd import HPMKDClassifier
from skhpmkd._search import (
    ALPHAS,
    FAMILIES,
    N_SIZES,
    TEMPERATURES,
    ConfigSearch,
    SearchSpace,
    _better,
    config_seed,
    default_families,
    family_student,
    fidelity_levels,
    halving_cost,
    unmet_bounds,
    installed_families,
    nested_subsets,
    scale_rounds,
)


def test_fidelity_levels_keep_enough_rows():
    assert fidelity_levels(100, 2) == [1.0]
    assert fidelity_levels(600, 2) == [1 / 3, 1.0]
    assert fidelity_levels(100_000, 2) == [1 / 9, 1 / 3, 1.0]
    # Ten classes need 200 rows in the smallest subset.
    assert fidelity_levels(1_500, 10) == [1 / 3, 1.0]


def test_nested_subsets_are_nested_and_stratified():
    y = np.repeat([0, 1, 2], [300, 120, 60])
    small, medium, full = nested_subsets(
        y, [1 / 9, 1 / 3, 1.0], np.random.RandomState(0)
    )
    assert set(small) <= set(medium) <= set(full)
    assert len(full) == len(y)
    assert np.bincount(y[small]).tolist() == [34, 14, 7]


def test_halving_cost_counts_full_fit_equivalents():
    assert halving_cost(9, [1 / 9, 1 / 3, 1.0]) == pytest.approx(1 + 1 + 1)
    assert halving_cost(4, [1.0]) == 4


def test_space_skips_nothing_and_accepts_nearest_values():
    space = SearchSpace([("dt", None), ("lr", None)], TEMPERATURES, ALPHAS)
    assert len(space) == 2 * N_SIZES * len(TEMPERATURES) * len(ALPHAS)
    mapped = space.accept(
        {"student": "dt", "size": 2, "temperature": 2.2, "alpha": 0.66}
    )
    assert mapped == {"student": "dt", "size": 2, "temperature": 2.0, "alpha": 0.7}
    assert (
        space.accept({"student": "rf", "size": 0, "temperature": 1, "alpha": 0.5})
        is None
    )
    assert (
        space.accept({"student": "dt", "size": 9, "temperature": 1, "alpha": 0.5})
        is None
    )
    # json.load reads "Infinity" from a memory file; it maps to nothing.
    for temperature in (float("inf"), float("nan"), 0):
        config = {"student": "dt", "size": 1, "temperature": temperature, "alpha": 0.5}
        assert space.accept(config) is None
    encoded = space.encode(space.configs[:3], [1 / 9, 1 / 3, 1.0])
    assert encoded.shape == (3, 2 + 4)
    assert np.all(np.isfinite(encoded))


def test_config_seed_depends_on_config_not_order():
    a = {"student": "dt", "size": 1, "temperature": 1.0, "alpha": 0.5}
    b = dict(reversed(list(a.items())))
    assert config_seed(7, a) == config_seed(7, b)
    assert config_seed(7, a) != config_seed(7, {**a, "alpha": 0.7})


@pytest.mark.parametrize("family", FAMILIES)
def test_family_students_grow_with_size(family):
    if family not in installed_families():
        pytest.skip(f"{family} is not installed")
    students = [family_student(family, size) for size in range(N_SIZES)]
    assert len({repr(student) for student in students}) == N_SIZES
    with pytest.raises(ValueError, match="Unknown student family 'svm'"):
        family_student("svm", 0)


def test_default_families_are_small_fast_students():
    families = default_families()
    assert families[:2] == ["lr", "dt"]
    assert families[2] in ("xgboost", "lightgbm", "hgb")
    assert families[2] == next(
        name for name in ("xgboost", "lightgbm", "hgb") if name in installed_families()
    )


def test_low_fidelity_boosters_take_fewer_rounds_at_a_higher_rate():
    xgboost = pytest.importorskip("xgboost")
    student = scale_rounds(
        xgboost.XGBClassifier(n_estimators=90, learning_rate=0.1), 1 / 9
    )
    assert student.n_estimators == 30
    assert student.learning_rate == pytest.approx(0.3)


def test_low_fidelity_boosters_scale_the_parameters_the_booster_obeys():
    """A round count set by a LightGBM alias, XGBoost's eta and XGBoost's
    default rate (learning_rate=None means 0.3) are scaled too."""
    xgboost = pytest.importorskip("xgboost")
    lightgbm = pytest.importorskip("lightgbm")
    X, y = load_breast_cancer(return_X_y=True)
    aliased = lightgbm.LGBMClassifier(num_iterations=90, learning_rate=0.1, verbose=-1)
    low = scale_rounds(aliased, 1 / 9).fit(X, y)
    assert low.booster_.num_trees() == 30
    assert low.get_params()["num_iterations"] == 30
    assert low.learning_rate == pytest.approx(0.3)

    eta = scale_rounds(xgboost.XGBClassifier(n_estimators=90, eta=0.05), 1 / 9)
    assert eta.get_params()["eta"] == pytest.approx(0.15)
    assert eta.learning_rate is None
    default = scale_rounds(xgboost.XGBClassifier(n_estimators=90), 1 / 4)
    assert default.n_estimators == 45
    assert default.learning_rate == pytest.approx(0.5)  # 0.6, capped


@pytest.mark.filterwarnings("ignore:Found conflicting values:UserWarning")
def test_of_several_lightgbm_aliases_the_one_it_obeys_is_read():
    """The schedule's number of rounds, and the fewest rows in a leaf, are
    read from the alias LightGBM obeys when several are set (with nrounds=4
    and num_rounds=5, a linear schedule assumed 5 rounds of the 4 trained)."""
    import itertools

    from skhpmkd._soft_targets import (
        _LIGHTGBM_MIN_LEAF_ALIASES,
        _LIGHTGBM_ROUND_ALIASES,
        _first_set,
        n_boosting_rounds,
    )

    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    for first, second in itertools.combinations(_LIGHTGBM_ROUND_ALIASES, 2):
        model = lightgbm.LGBMClassifier(verbose=-1, **{first: 3, second: 5})
        assert n_boosting_rounds(model) == model.fit(X, y).booster_.current_iteration()
    for first, second in itertools.combinations(_LIGHTGBM_MIN_LEAF_ALIASES, 2):
        # A leaf of at least 90 of the 200 rows allows one split at most.
        model = lightgbm.LGBMClassifier(
            n_estimators=1, verbose=-1, **{first: 90, second: 2}
        )
        tree = model.fit(X, y).booster_.dump_model()["tree_info"][0]
        assert (tree["num_leaves"] <= 2) == (
            _first_set(model, _LIGHTGBM_MIN_LEAF_ALIASES, 20) == 90
        )


def test_search_matches_grid_with_an_eighth_of_its_fits():
    """4 families x 4 T x 4 alpha, with 4 sizes per family as the grid's trials.

    The grid fits all 256 configurations on the same fit rows, teacher
    targets and seeds as the search (so a configuration both evaluate gets
    identical scores); each picks its best on the same held-out rows, and
    the two picks are compared on test rows neither has seen.
    """
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    X, y = make_classification(
        n_samples=5_000,
        n_features=8,
        n_informative=6,
        n_classes=4,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, random_state=0, stratify=y
    )
    params = dict(
        teachers=HistGradientBoostingClassifier(max_iter=100, early_stopping=False),
        students=["lr", "dt", "xgboost", "lightgbm"],
        augment=0,
        cv=3,
        n_jobs=2,
        random_state=0,
    )
    search = HPMKDClassifier(**params).fit(X_train, y_train)

    grid_search, *_ = HPMKDClassifier(**params)._prepare(X_train, y_train)
    grid_search.start()
    grid = grid_search.evaluate(grid_search.space.configs, 1.0, "grid", 0)
    assert len(grid) == 4 * N_SIZES * 4 * 4
    assert search.n_student_fits_ <= (len(grid) + 1) / 8

    def test_accuracy(result):
        return np.mean(result["model"].predict(X_test) == y_test)

    grid_best = max(grid, key=lambda r: (r["score"], -r["log_loss"]))
    (chosen,) = [r for r in grid if r["config"] == search.best_params_]
    assert chosen["score"] == search.best_score_
    assert search.best_score_ >= grid_best["score"] - 0.005
    assert test_accuracy(chosen) >= test_accuracy(grid_best) - 0.005


def _config(student, size):
    return {"student": student, "size": size, "temperature": 1.0, "alpha": 0.5}


class _ScoredSearch(ConfigSearch):
    """A search over given records; ``evaluate`` notes what it is asked to fit."""

    def __init__(self, records):
        space = SearchSpace([("xgboost", None), ("dt", None)], (1.0,), (0.5,))
        super().__init__(
            space,
            None,
            None,
            budget=10,
            patience=3,
            warm_configs=[],
            n_jobs=None,
            random_state=np.random.RandomState(0),
        )
        self.records, self.levels, self.asked = records, [1 / 3, 1.0], []
        self.best = None

    def evaluate(self, configs, level, stage, rung):
        self.asked.extend(configs)
        return [
            {"config": c, "feasible": True, "score": 0.9, "log_loss": 0.3}
            for c in configs
        ]


def test_smaller_sizes_skip_those_already_scored():
    # The search scored XGBoost at size 3 (refitted, too large) and size 2
    # (out of the bounds), and the smallest tree (refitted, too large).
    search = _ScoredSearch(
        [
            {"config": _config("xgboost", 3), "resource": 1.0, "feasible": True},
            {"config": _config("xgboost", 2), "resource": 1.0, "feasible": False},
            {"config": _config("xgboost", 1), "resource": 1 / 3, "feasible": True},
            {"config": _config("dt", 0), "resource": 1.0, "feasible": True},
        ]
    )
    tried = [_config("xgboost", 3), _config("dt", 0)]
    records = search.smaller(tried)
    assert search.asked == [_config("xgboost", 1)]
    assert [record["config"] for record in records] == [_config("xgboost", 1)]


def test_ranked_results_lead_with_the_best():
    def result(student, size, score, log_loss, feasible=True, resource=1.0):
        return {
            "config": _config(student, size),
            "score": score,
            "log_loss": log_loss,
            "feasible": feasible,
            "resource": resource,
        }

    records = [
        result("dt", 0, 0.8, 0.4),
        result("xgboost", 1, 0.9, 0.3),
        result("xgboost", 3, 0.95, 0.2, feasible=False),
        result("xgboost", 2, 0.9, 0.3),  # ties with size 1, fitted later
        result("dt", 1, 0.99, 0.1, resource=1 / 3),
        result("xgboost", 0, 0.9, 0.25),
    ]
    search = _ScoredSearch([])
    for record in records:
        search.records.append(record)
        if record["resource"] == 1.0 and _better(record, search.best):
            search.best = record
    ranked = search.ranked()
    assert ranked[0] is search.best
    assert [(r["config"]["student"], r["config"]["size"]) for r in ranked] == [
        ("xgboost", 0),
        ("xgboost", 1),
        ("xgboost", 2),
        ("dt", 0),
    ]


@pytest.mark.parametrize(
    "max_size, max_latency, expected",
    [
        (5, 1.0, ["max_student_size"]),  # the latency bound is met
        (50, 1e-5, ["max_latency"]),
        (5, 1e-5, ["max_student_size", "max_latency"]),
        # Each bound is met by one student, both by none: both are named.
        (15, 1.5e-4, ["max_student_size", "max_latency"]),
        (5, None, ["max_student_size"]),
    ],
)
def test_unmet_bounds_names_the_bounds_no_student_meets(
    max_size, max_latency, expected
):
    settings = {"max_size": max_size, "max_latency": max_latency}
    names, bounds, best = unmet_bounds([10, 20], [2e-4, 1e-4], settings)
    assert names == expected
    assert len(bounds) == len(best) == len(expected)
    assert all(bound.startswith(name) for name, bound in zip(names, bounds))
