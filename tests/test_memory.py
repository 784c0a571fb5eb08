"""Optimisation memory: JSON records, atomic writes, never unpickled, warm starts."""

import json
import os
import pickle
import subprocess
import sys
import warnings
from functools import partial

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from skhpmkd import HPMKDClassifier
from skhpmkd._memory import (
    FORMAT,
    load_records,
    nearest_configs,
    nearest_existing_folder,
    save_records,
    scoring_name,
    unsearched_students,
)
from skhpmkd._meta_features import META_FEATURES, meta_distance, meta_features


_UNBOUNDED = {"bounds": {"max_student_size": None, "max_latency": None}}


def _record(score, distance_marker=0.0, student="dt"):
    meta = {name: 0.5 for name in META_FEATURES}
    meta["log_samples"] += distance_marker
    return {
        "meta_features": meta,
        "config": {"student": student, "size": 1, "temperature": 1.0, "alpha": 0.5},
        "score": score,
    }


def test_records_round_trip_through_plain_json(tmp_path):
    path = tmp_path / "memory.json"
    assert load_records(path) == []
    assert save_records(path, [_record(0.8)]) == 1
    assert save_records(path, [_record(0.9)]) == 2
    content = json.loads(path.read_text())
    assert content["format"] == FORMAT
    assert [r["score"] for r in load_records(path)] == [0.8, 0.9]
    # The temporary file of the atomic write is gone; the writers' lock stays.
    assert sorted(os.listdir(tmp_path)) in (
        ["memory.json"],
        ["memory.json", "memory.json.lock"],
    )


def test_a_pickle_is_rejected_not_loaded(tmp_path):
    path = tmp_path / "memory.json"
    path.write_bytes(pickle.dumps({"format": FORMAT, "records": []}))
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_records(path)


@pytest.mark.parametrize(
    "content, message",
    [
        ([], "is not an skhpmkd optimisation memory"),
        ({"format": FORMAT, "version": 99, "records": []}, "has version 99"),
        ({"format": FORMAT, "version": 1, "records": {}}, "has no list of records"),
        (
            {"format": FORMAT, "version": 1, "records": [{"score": 1}]},
            "malformed record",
        ),
        (
            {
                "format": FORMAT,
                "version": 1,
                "records": [{**_record(0.5), "scoring": 3}],
            },
            "malformed record",
        ),
        (
            {
                "format": FORMAT,
                "version": 1,
                "records": [{**_record(0.5), "students": "dt"}],
            },
            "malformed record",
        ),
        (
            {
                "format": FORMAT,
                "version": 1,
                "records": [{**_record(0.5), "students": ["dt", 3]}],
            },
            "malformed record",
        ),
        *(
            (
                {
                    "format": FORMAT,
                    "version": 1,
                    "records": [
                        {
                            **_record(0.5),
                            "config": {**_record(0.5)["config"], key: value},
                        }
                    ],
                },
                "malformed record",
            )
            for key, value in [
                ("student", ["dt"]),
                ("temperature", "2"),
                ("alpha", None),
                ("size", "1"),
            ]
        ),
    ],
)
def test_malformed_memory_files_raise(tmp_path, content, message):
    path = tmp_path / "memory.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=message):
        load_records(path)


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "memory.json"
    save_records(path, [_record(0.8)])

    def full_disk(content, file, **kwargs):
        file.write('{"format": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("skhpmkd._memory.json.dump", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_records(path, [_record(0.9)])
    monkeypatch.undo()
    assert [r["score"] for r in load_records(path)] == [0.8]
    assert [name for name in os.listdir(tmp_path) if name.endswith(".json")] == [
        "memory.json"
    ]


def test_records_without_a_finite_score_are_refused_or_dropped(tmp_path):
    path = tmp_path / "memory.json"
    with pytest.raises(ValueError, match="needs a finite score; got nan"):
        save_records(path, [_record(float("nan"))])
    assert not path.exists()
    # A file holding one (written by hand: JSON has no NaN, Python's json
    # reads it) is still read, and the record is left out on the next save.
    save_records(path, [_record(0.8)])
    content = json.loads(path.read_text())
    content["records"].append(_record(float("nan")))
    path.write_text(json.dumps(content))
    assert len(load_records(path)) == 2
    assert save_records(path, [_record(0.9)]) == 2
    assert [r["score"] for r in load_records(path)] == [0.8, 0.9]


def test_a_memory_reached_through_a_link_stays_a_link(tmp_path):
    shared = tmp_path / "shared.json"
    link = tmp_path / "project" / "memory.json"
    link.parent.mkdir()
    save_records(shared, [_record(0.8)])
    link.symlink_to(shared)
    save_records(link, [_record(0.9)])
    assert link.is_symlink()
    assert [r["score"] for r in load_records(shared)] == [0.8, 0.9]
    assert not (tmp_path / "project" / "memory.json.lock").exists()


def test_nearest_configs_prefers_close_tasks_then_high_scores():
    records = [
        _record(0.99, distance_marker=0.5, student="far"),
        _record(0.70, student="dt"),
        _record(0.90, student="lr"),
    ]
    target = {name: 0.5 for name in META_FEATURES}
    configs = nearest_configs(
        records, target, max_distance=0.1, n_configs=5, accept=lambda c: c
    )
    assert [c["student"] for c in configs] == ["lr", "dt"]
    only_dt = nearest_configs(
        records,
        target,
        max_distance=0.1,
        n_configs=5,
        accept=lambda c: c if c["student"] == "dt" else None,
    )
    assert [c["student"] for c in only_dt] == ["dt"]


def test_nearest_configs_use_records_of_the_same_scoring_only():
    records = [
        {**_record(0.99, student="f1"), "scoring": "f1_macro"},
        _record(0.80, student="old"),  # written before records had a scoring
        {**_record(0.70, student="acc"), "scoring": "accuracy"},
    ]
    target = {name: 0.5 for name in META_FEATURES}
    kwargs = {"max_distance": 0.1, "n_configs": 5, "accept": lambda c: c}
    by_accuracy = nearest_configs(records, target, **kwargs)
    assert [c["student"] for c in by_accuracy] == ["old", "acc"]
    by_f1 = nearest_configs(records, target, scoring="f1_macro", **kwargs)
    assert [c["student"] for c in by_f1] == ["f1"]


def test_unsearched_students_are_those_no_similar_search_had():
    records = [
        {**_record(0.9, student="dt"), "students": ["dt", "lr"], **_UNBOUNDED},
        _record(0.8, student="rf"),  # written before records named the students
        {
            **_record(0.9, distance_marker=0.5, student="dt"),
            "students": ["xgboost"],
            **_UNBOUNDED,
        },
        {
            **_record(0.9, student="dt"),
            "students": ["mlp"],
            "scoring": "f1_macro",
            **_UNBOUNDED,
        },
    ]
    target = {name: 0.5 for name in META_FEATURES}
    names = ["xgboost", "lr", "mlp", "rf", "dt"]
    kwargs = dict(max_distance=0.1, n_configs=5, accept=lambda c: c)
    assert unsearched_students(records, target, names, **kwargs) == ["xgboost", "mlp"]
    assert unsearched_students(
        records, target, names, scoring="f1_macro", **kwargs
    ) == ["xgboost", "lr", "rf", "dt"]


def test_only_the_searches_a_warm_start_starts_from_cover_students():
    # The two configurations come from the nearest search, which had no
    # xgboost; a farther one where xgboost won does not make it covered.
    records = [
        {
            **_record(0.95, 0.01, student="xgboost"),
            "students": ["lr", "xgboost"],
            **_UNBOUNDED,
        },
        {**_record(0.90, student="dt"), "students": ["lr", "dt"], **_UNBOUNDED},
        {**_record(0.70, student="lr"), "students": ["lr", "dt"], **_UNBOUNDED},
    ]
    target = {name: 0.5 for name in META_FEATURES}
    kwargs = dict(max_distance=0.1, n_configs=2, accept=lambda c: c)
    configs = nearest_configs(records, target, **kwargs)
    assert [config["student"] for config in configs] == ["dt", "lr"]
    names = ["lr", "dt", "xgboost"]
    assert unsearched_students(records, target, names, **kwargs) == ["xgboost"]
    # With room for a third configuration, the farther search counts too.
    kwargs["n_configs"] = 3
    assert unsearched_students(records, target, names, **kwargs) == []


def test_a_record_without_bounds_covers_its_own_student_only():
    # Written before records named their bounds, it may come from a search
    # under a bound whose other students all broke it.
    records = [{**_record(0.9, student="dt"), "students": ["dt", "rf"]}]
    target = {name: 0.5 for name in META_FEATURES}
    kwargs = dict(max_distance=0.1, n_configs=2, accept=lambda c: c)
    assert unsearched_students(records, target, ["dt", "rf"], **kwargs) == ["rf"]
    assert [c["student"] for c in nearest_configs(records, target, **kwargs)] == ["dt"]


def test_records_of_other_bounds_are_not_used():
    bounded = {"max_student_size": 10, "max_latency": None}
    records = [
        {**_record(0.9, student="lr"), "bounds": bounded},
        _record(0.8, student="dt"),  # written before records named their bounds
    ]
    target = {name: 0.5 for name in META_FEATURES}
    kwargs = dict(max_distance=0.1, n_configs=5, accept=lambda c: c)
    unbounded = nearest_configs(records, target, **kwargs)
    assert [config["student"] for config in unbounded] == ["dt"]
    within = nearest_configs(records, target, bounds=bounded, **kwargs)
    assert [config["student"] for config in within] == ["lr"]


def test_a_record_the_file_holds_is_not_added_again(tmp_path):
    # Refits of one task would otherwise push other tasks' records out.
    path = tmp_path / "memory.json"
    assert save_records(path, [_record(0.8), _record(0.9)]) == 2
    assert save_records(path, [_record(0.9), _record(0.7), _record(0.7)]) == 3
    assert [r["score"] for r in load_records(path)] == [0.8, 0.9, 0.7]


def test_scoring_names():
    from sklearn.metrics import f1_score, fbeta_score, make_scorer

    assert scoring_name(None) == "accuracy"
    assert scoring_name("roc_auc") == "roc_auc"
    assert scoring_name(make_scorer(f1_score, average="macro")).startswith(
        "make_scorer(f1_score"
    )
    assert scoring_name(_record) == f"{__name__}._record"
    # Partials of one function with other arguments are other scorings.
    first, second = partial(_record, 0.5), partial(_record, score=0.7)
    assert scoring_name(first) == f"partial({__name__}._record, 0.5)"
    assert scoring_name(second) == f"partial({__name__}._record, score=0.7)"
    # Arguments whose repr is shortened or holds an address get a stable name.
    weights = np.arange(2_000.0)
    assert scoring_name(partial(_record, weights)) != scoring_name(
        partial(_record, weights + 1)
    )
    assert scoring_name(partial(_record, weights)) == scoring_name(
        partial(_record, weights.copy())
    )
    assert scoring_name(partial(_record, score=_record)) == (
        f"partial({__name__}._record, score={__name__}._record)"
    )
    # Lambdas (and local functions) share a qualified name; what they compute
    # tells them apart, wherever they are written.
    accuracy = lambda estimator, X, y: np.mean(estimator.predict(X) == y)  # noqa: E731
    same = lambda estimator, X, y: np.mean(estimator.predict(X) == y)  # noqa: E731
    error = lambda estimator, X, y: np.mean(estimator.predict(X) != y)  # noqa: E731
    assert scoring_name(accuracy) == scoring_name(same)
    assert scoring_name(accuracy) != scoring_name(error)
    assert scoring_name(accuracy).startswith(f"{__name__}.test_scoring_names.")
    assert scoring_name(_shifted(0.1)) != scoring_name(_shifted(0.2))
    assert scoring_name(_shifted(0.1)) == scoring_name(_shifted(0.1))
    # So are scikit-learn scorers of lambdas, and methods of other objects.
    assert scoring_name(make_scorer(lambda y, p: np.mean(y == p))) != scoring_name(
        make_scorer(lambda y, p: np.mean(y != p))
    )
    assert scoring_name(_Threshold(0.3).__call__) != scoring_name(
        _Threshold(0.7).__call__
    )
    assert scoring_name(np.mean) == "numpy.mean"
    # A scorer's repr shortens a long array argument; its name does not.
    from sklearn.metrics import accuracy_score

    ones, other = np.ones(2_000), np.ones(2_000)
    other[1_000] = 2.0
    assert scoring_name(make_scorer(accuracy_score, sample_weight=ones)) != (
        scoring_name(make_scorer(accuracy_score, sample_weight=other))
    )
    # A scorer's repr holds the address of a partial metric; its name does not.
    beta = [scoring_name(make_scorer(partial(fbeta_score, beta=b))) for b in (1, 2)]
    assert beta[0] != beta[1] and not any("0x" in name for name in beta)
    # A local function that calls itself is named, not followed for ever.
    assert scoring_name(_retrying()).startswith(f"{__name__}._retrying.<locals>.")
    # Instances of one scorer class with other parameters are other scorings.
    assert scoring_name(_Threshold(0.3)) != scoring_name(_Threshold(0.7))
    assert scoring_name(_Threshold(0.3)) == scoring_name(_Threshold(0.3))
    assert scoring_name(_Threshold(0.3)).startswith(f"{__name__}._Threshold:")


def _retrying():
    def score(estimator, X, y, attempts=1):
        if attempts > 1:
            return score(estimator, X, y, attempts - 1)
        return np.mean(estimator.predict(X) == y)

    return score


def test_lambda_scoring_names_are_the_same_in_every_process():
    # A set literal compiles to a frozenset constant, whose repr follows the
    # string hashing of the process.
    code = (
        "from skhpmkd._memory import scoring_name\n"
        "print(scoring_name(lambda e, X, y: e.kind in {'a', 'b', 'c', (1, 'd'), 2}))"
    )
    names = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(4)
    }
    assert len(names) == 1


def _shifted(shift):
    def score(estimator, X, y):
        return np.mean(estimator.predict(X) == y) + shift

    return score


class _Threshold:
    """A scorer class whose parameter changes what it scores."""

    def __init__(self, threshold):
        self.threshold = threshold

    def __call__(self, estimator, X, y):
        return np.mean((estimator.predict_proba(X)[:, 1] > self.threshold) == y)


def test_meta_features_are_bounded_and_distance_is_zero_on_itself():
    X, y = make_classification(
        n_samples=200, n_classes=3, n_informative=4, random_state=0
    )
    targets = np.full((200, 3), 1 / 3)
    features = meta_features(X, y, targets)
    assert set(features) == set(META_FEATURES)
    assert all(0 <= value <= 1.5 for value in features.values())
    assert meta_distance(features, features) == 0
    assert meta_distance(features, {}) == np.inf


def test_a_constant_column_has_no_skewness_and_no_warning():
    # scipy warns of precision loss on a constant column; a user with a
    # constant feature must not see that from every fit.
    X = np.column_stack([np.random.RandomState(0).normal(size=60), np.full(60, 0.1)])
    y = np.array([0, 1] * 30)
    targets = np.full((60, 2), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with_constant = meta_features(X, y, targets)
    assert with_constant["skewness"] == pytest.approx(
        meta_features(X[:, :1], y, targets)["skewness"] / 2, abs=1e-6
    )


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1e104, 1e200])
def test_skewness_does_not_change_with_the_scale_of_a_feature(scale):
    # The cube of values beyond about 1e103 overflows, and below 1e-103
    # underflows; skewness itself does not depend on the scale.
    X = np.random.RandomState(0).exponential(size=(200, 2))
    y = np.array([0, 1] * 100)
    targets = np.full((200, 2), 0.5)
    skewness = meta_features(X, y, targets)["skewness"]
    assert skewness > 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert meta_features(X * scale, y, targets)["skewness"] == skewness


def _warm_start_task(tmp_path, n_samples, **params):
    """A 3-class task, a memory path and HPMKDClassifier parameters saving to it."""
    X, y = make_classification(
        n_samples=n_samples, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    path = tmp_path / "hpmkd-memory.json"
    defaults = dict(
        teachers=RandomForestClassifier(n_estimators=30, max_depth=8),
        cv=3,
        warm_start_memory=str(path),
        random_state=0,
    )
    return X, y, path, {**defaults, **params}


def test_second_fit_with_the_same_memory_fits_fewer_models(tmp_path):
    X, y, path, params = _warm_start_task(
        tmp_path, 1_500, students=["dt", "lr", "rf"], augment=0.5
    )
    cold = HPMKDClassifier(**params).fit(X, y)
    warm = HPMKDClassifier(**params).fit(X, y)
    assert not cold.warm_started_ and warm.warm_started_
    assert set(warm.search_results_["stage"]) == {"warm_start", "surrogate"}
    assert warm.n_student_fits_ < cold.n_student_fits_
    assert warm.best_score_ >= cold.best_score_
    # Each full-data result once: the warm search's refits of remembered
    # configurations give records the file holds already.
    full = {
        (json.dumps(config, sort_keys=True), score)
        for model in (cold, warm)
        for config, score, resource in zip(
            model.search_results_["params"],
            model.search_results_["score"],
            model.search_results_["resource"],
        )
        if resource == 1.0
    }
    assert int(np.sum(warm.search_results_["resource"] == 1.0)) > len(full) - int(
        np.sum(cold.search_results_["resource"] == 1.0)
    )
    assert len(load_records(path)) == len(full)
    assert {record["scoring"] for record in load_records(path)} == {"accuracy"}
    assert all(r["students"] == ["dt", "lr", "rf"] for r in load_records(path))
    other = HPMKDClassifier(**params, scoring="neg_log_loss").fit(X, y)
    assert not other.warm_started_


def test_a_memory_that_may_only_be_read_warm_starts_without_saving(
    tmp_path, monkeypatch
):
    X, y, path, params = _warm_start_task(tmp_path, 600, students=["dt", "lr"])
    HPMKDClassifier(**params).fit(X, y)
    saved = path.read_bytes()
    # A shared memory in a folder this user may not write (tests may run as
    # root, who may write anywhere: os.access says no to writes here).
    import skhpmkd._hpmkd

    access = skhpmkd._hpmkd.os.access
    monkeypatch.setattr(
        skhpmkd._hpmkd.os,
        "access",
        lambda file, mode: not mode & os.W_OK and access(file, mode),
    )
    with pytest.raises(ValueError, match="or set update_memory=False"):
        HPMKDClassifier(**params).fit(X, y)
    reader = HPMKDClassifier(**params, update_memory=False).fit(X, y)
    assert reader.warm_started_
    assert path.read_bytes() == saved
    missing = {**params, "warm_start_memory": str(tmp_path / "other.json")}
    cold = HPMKDClassifier(**missing, update_memory=False).fit(X, y)
    assert not cold.warm_started_
    assert not (tmp_path / "other.json").exists()
    monkeypatch.setattr(skhpmkd._hpmkd.os, "access", lambda file, mode: False)
    for update in (False, True):
        with pytest.raises(ValueError, match="hpmkd-memory.json' cannot be read"):
            HPMKDClassifier(**params, update_memory=update).fit(X, y)


@pytest.mark.parametrize("suffix, what", [("", "it is"), (".lock", "its lock is")])
def test_a_memory_or_lock_this_user_may_not_write_is_refused_first(
    tmp_path, monkeypatch, suffix, what
):
    # Another user's read-only memory, or the lock another user left: the
    # folder may be written, but the save would fail (or replace their file)
    # after the whole search.
    if suffix and os.name != "posix":
        pytest.skip("the lock uses fcntl")
    X, y, path, params = _warm_start_task(tmp_path, 300, students=["dt"])
    HPMKDClassifier(**params).fit(X, y)
    saved = path.read_bytes()
    import skhpmkd._hpmkd

    access = skhpmkd._hpmkd.os.access
    denied = os.path.realpath(path) + suffix
    monkeypatch.setattr(
        skhpmkd._hpmkd.os,
        "access",
        lambda file, mode: not (file == denied and mode & os.W_OK)
        and access(file, mode),
    )
    teacherless = {**params, "teachers": _UnfittableTeacher()}
    with pytest.raises(ValueError, match=f"cannot be written: {what} a file this"):
        HPMKDClassifier(**teacherless).fit(X, y)
    assert HPMKDClassifier(**params, update_memory=False).fit(X, y).warm_started_
    assert path.read_bytes() == saved


class _UnfittableTeacher(RandomForestClassifier):
    def fit(self, X, y, sample_weight=None):
        raise AssertionError("the teacher was fitted")


@pytest.mark.parametrize("update", [True, False])
def test_a_broken_memory_is_reported_before_the_teacher_is_fitted(tmp_path, update):
    X, y, path, params = _warm_start_task(tmp_path, 300, students=["dt"])
    path.write_text("{not json")
    params["teachers"] = _UnfittableTeacher()
    with pytest.raises(ValueError, match="optimisation memory"):
        HPMKDClassifier(**params, update_memory=update).fit(X, y)


def test_saving_keeps_the_file_mode(tmp_path):
    path = tmp_path / "memory.json"
    umask = os.umask(0o022)  # so that a new lock file is 0o644
    try:
        save_records(path, [_record(0.5)])
    finally:
        os.umask(umask)
    os.chmod(path, 0o664)
    save_records(path, [_record(0.6)])
    assert os.stat(path).st_mode & 0o777 == 0o664
    if os.name == "posix":
        # The lock is shared as widely as the file it guards.
        assert os.stat(f"{path}.lock").st_mode & 0o777 == 0o664
        # A read-only memory still lets its owner take the lock.
        os.chmod(path, 0o444)
        save_records(path, [_record(0.7)])
        assert os.stat(f"{path}.lock").st_mode & 0o777 == 0o644


@pytest.mark.skipif(os.name != "posix", reason="the lock uses fcntl")
def test_a_file_system_that_refuses_chmod_still_saves(tmp_path, monkeypatch):
    def refuse(fd, mode):
        raise OSError(95, "Operation not supported")

    path = tmp_path / "memory.json"
    umask = os.umask(0o022)  # the lock is 0o644, so it is changed to 0o664
    try:
        save_records(path, [_record(0.5)])
    finally:
        os.umask(umask)
    os.chmod(path, 0o664)
    monkeypatch.setattr("skhpmkd._memory.os.fchmod", refuse)
    assert save_records(path, [_record(0.6)]) == 2


@pytest.mark.skipif(os.name != "posix", reason="umask is POSIX")
def test_a_new_memory_gets_the_umask_without_setting_it(tmp_path, monkeypatch):
    """Setting the umask to read it would change it, for a moment, for every
    thread of the process."""

    def forbidden(mask):
        raise AssertionError("os.umask was called")

    umask = os.umask(0o027)
    try:
        monkeypatch.setattr("skhpmkd._memory.os.umask", forbidden)
        path = tmp_path / "memory.json"
        save_records(path, [_record(0.5)])
    finally:
        monkeypatch.undo()
        os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.stat(f"{path}.lock").st_mode & 0o777 == 0o640


def test_nearest_existing_folder(tmp_path):
    assert nearest_existing_folder(tmp_path / "a" / "b" / "m.json") == str(tmp_path)
    assert nearest_existing_folder(tmp_path / "m.json") == str(tmp_path)
    assert nearest_existing_folder("/") == "/"


def _append_many(path, n, writer):
    for i in range(n):
        save_records(path, [_record((writer * n + i) / (2 * n))])


@pytest.mark.skipif(os.name != "posix", reason="the lock uses fcntl")
def test_concurrent_writers_keep_every_record(tmp_path):
    import multiprocessing

    path = str(tmp_path / "memory.json")
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_append_many, args=(path, 25, writer))
        for writer in range(2)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert [writer.exitcode for writer in writers] == [0, 0]
    assert len(load_records(path)) == 50


def test_a_warm_start_looks_at_students_the_memory_never_searched(tmp_path):
    # The memory was made with decision trees only; a later search with more
    # students must still try them, not only refine the remembered trees.
    X, y, _, params = _warm_start_task(tmp_path, 1_000, augment=0.5)
    HPMKDClassifier(**params, students=["dt"]).fit(X, y)
    warm = HPMKDClassifier(**params, students=["dt", "lr", "rf"]).fit(X, y)
    assert warm.warm_started_
    results = warm.search_results_
    first = [
        params["student"]
        for params, stage in zip(results["params"], results["stage"])
        if stage == "warm_start"
    ]
    assert first[0] == "dt" and {"lr", "rf"} <= set(first)
    # The same students again: the memory now covers them, only its best
    # configurations are fitted first.
    again = HPMKDClassifier(**params, students=["dt", "lr", "rf"]).fit(X, y)
    assert list(again.search_results_["stage"]).count("warm_start") <= 2


def test_a_warm_start_records_only_the_students_it_looked_at(tmp_path):
    # Budget 3 fits two configurations warm: the students it had no room for,
    # and no remembered search had, are not recorded as searched, so the
    # next warm starts try them.
    X, y, path, params = _warm_start_task(
        tmp_path,
        600,
        teachers=RandomForestClassifier(n_estimators=20, max_depth=6),
        budget=3,
    )
    HPMKDClassifier(**params, students=["dt"]).fit(X, y)
    remembered = {"dt"}
    for _ in range(3):
        warm = HPMKDClassifier(**params, students=["dt", "lr", "rf", "hgb"]).fit(X, y)
        fitted = set(warm.search_results_["param_student"])
        assert len(fitted) < 4
        recorded = set(load_records(path)[-1]["students"])
        assert recorded == fitted | remembered
        remembered = recorded
    assert remembered == {"dt", "lr", "rf", "hgb"}


def test_a_memory_made_under_a_size_bound_does_not_hide_students(tmp_path):
    # Every XGBoost broke the bound: it is not recorded as searched, and a
    # search without the bound does not start from that memory.
    X, y, path, params = _warm_start_task(
        tmp_path, 400, students=["lr", "xgboost"], augment=0, budget=5
    )
    # A NumPy integer, which JSON does not take, is remembered as a number.
    HPMKDClassifier(**params, max_student_size=np.int64(30)).fit(X, y)
    records = load_records(path)
    assert {tuple(record["students"]) for record in records} == {("lr",)}
    assert {record["bounds"]["max_student_size"] for record in records} == {30}
    unbounded = HPMKDClassifier(**params).fit(X, y)
    assert not unbounded.warm_started_
    assert "xgboost" in set(unbounded.search_results_["param_student"])
    again = HPMKDClassifier(**params, max_student_size=30).fit(X, y)
    assert again.warm_started_


def test_students_of_one_class_are_remembered_by_their_parameters(tmp_path):
    from sklearn.tree import DecisionTreeClassifier

    X, y, path, params = _warm_start_task(tmp_path, 400, augment=0, budget=4)
    stump, deep = DecisionTreeClassifier(max_depth=1), DecisionTreeClassifier()
    HPMKDClassifier(**params, students=["lr", stump]).fit(X, y)
    names = {name for record in load_records(path) for name in record["students"]}
    assert "lr" in names and len(names) == 2
    assert any(name.startswith("DecisionTreeClassifier:") for name in names)
    # Another tree has not been searched: it gets a look of its own.
    other = HPMKDClassifier(**params, students=["lr", deep]).fit(X, y)
    results = other.search_results_
    assert other.warm_started_
    assert "DecisionTreeClassifier" in set(
        results["param_student"][results["stage"] == "warm_start"]
    )


def test_a_student_that_cannot_be_pickled_is_remembered_too(tmp_path):
    # The memory keys a custom student by a hash of its parameters; a lambda
    # among them cannot be pickled for the hash.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    X, y, path, params = _warm_start_task(tmp_path, 300, augment=0, budget=2)
    student = make_pipeline(
        FunctionTransformer(lambda X: X * 2), DecisionTreeClassifier(max_depth=3)
    )
    for _ in range(2):
        HPMKDClassifier(**params, students=["lr", student]).fit(X, y)
    names = {name for record in load_records(path) for name in record["students"]}
    assert "lr" in names and any(name.startswith("Pipeline:") for name in names)


def test_a_custom_students_memory_name_is_what_it_is_not_its_state():
    # A pipeline the user fitted as a baseline is the same student.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    from skhpmkd._hpmkd import _memory_name

    X, y = make_classification(n_samples=100, random_state=0)
    student = make_pipeline(StandardScaler(), DecisionTreeClassifier(max_depth=3))
    name = _memory_name(student)
    student.fit(X, y)
    assert _memory_name(student) == name
    assert _memory_name(student.set_params(decisiontreeclassifier__max_depth=4)) != name
