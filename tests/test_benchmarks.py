"""Smoke test of the benchmark harness and its data set loader."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# One split of a 300-row synthetic set, teacher cross-fitted on 2 folds.
TINY_SPLIT = ["--datasets", "synth_300_2c", "--seeds", "1", "--teacher-cv", "2"]


def _run_script(script, arguments, timeout):
    """Run ``benchmarks/<script>`` in a subprocess; it must exit 0."""
    command = [sys.executable, str(BENCHMARKS / script), *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed


def test_tiny_run_writes_the_table_and_the_csv(tmp_path):
    out = tmp_path / "results.csv"
    arguments = [
        *TINY_SPLIT,
        "--families", "tree",
        "--budget", "3",
        "--no-chain",
        "--no-ablations",
        "--out", str(out),
    ]  # fmt: skip
    completed = _run_script("run.py", arguments, timeout=120)

    frame = pd.read_csv(out)
    datasets = _module("_datasets")
    run_columns = [
        "dataset", "n_rows", "n_features", "n_classes", "seed", "method", "family",
        "accuracy", "log_loss", "roc_auc", "ece", "retention", "agreement", "kl",
        "size", "size_ratio", "latency_ms_1k", "speedup", "fit_s", "n_fits",
        "peak_mb", "peak_mb_fresh", "params", "note",
    ]  # fmt: skip
    assert list(frame.columns) == run_columns
    assert set(frame["dataset"]) == {"synth_300_2c"}
    assert not frame["note"].fillna("").str.startswith("error").any(), frame[
        "note"
    ].tolist()
    methods = set(frame["method"])
    assert {
        "teacher",
        "hard_default",
        "kd_default",
        "kd_noaug",
        "hard_tuned",
        "kd_tuned",
    } <= methods
    assert {"grid", "hpmkd", "hard_tuned@hpmkd"} <= methods

    scored = frame.dropna(subset=["accuracy"])
    assert scored["accuracy"].between(0, 1).all()
    assert scored["agreement"].between(0, 1).all()
    assert (scored["size"] > 0).all() and (scored["latency_ms_1k"] > 0).all()
    teacher = frame[frame["method"] == "teacher"].iloc[0]
    assert teacher["retention"] == pytest.approx(1.0)
    assert teacher["n_fits"] == 3
    tuned = frame[frame["method"].isin(["hard_tuned", "kd_tuned"])]
    assert (tuned["n_fits"] == 3).all()
    grid = frame[frame["method"] == "grid"].iloc[0]
    assert grid["n_fits"] == 16 + 1
    hpmkd = frame[frame["method"] == "hpmkd"].iloc[0]
    matched = frame[frame["method"] == "hard_tuned@hpmkd"].iloc[0]
    assert matched["n_fits"] == hpmkd["n_fits"]

    markdown = out.with_suffix(".md").read_text()
    assert "| dataset | method | family | accuracy | log_loss |" in markdown
    assert "| kd_tuned vs hard_tuned | all |" in markdown
    assert "| hpmkd vs hard_tuned@hpmkd | synth_300_2c | 1 |" in markdown
    assert "| comparison | datasets | share_not_worse | share_better |" in markdown
    assert "| dataset | method | family | accuracy |" in completed.stdout
    assert len(datasets.synthetic_names()) == 8


def test_shared_teacher_gives_its_cached_out_of_fold_targets():
    """The KD rows distil the cached out-of-fold targets, not in-sample ones."""
    from skhpmkd._teachers import fit_teacher

    run = _module("run")
    split = run.make_split(_module("_datasets").load("synth_300_2c"), seed=0)
    run.fit_shared_teacher(split, cv=2)
    classes = np.arange(split.n_classes)
    _, targets = fit_teacher(split.precomputed(), split.X_train, split.y_train, classes)
    np.testing.assert_array_equal(targets, split.soft_targets)
    in_sample = split.teacher.predict_proba(split.X_train)
    assert not np.allclose(targets, in_sample)


def test_only_variants_keeps_just_their_rows(tmp_path):
    out = tmp_path / "variant.csv"
    arguments = [
        *TINY_SPLIT,
        "--only-variants", "hpmkd-tenth_size", "hpmkd-tenth_size_mlp",
        "--out", str(out),
    ]  # fmt: skip
    _run_script("run.py", arguments, timeout=120)
    frame = pd.read_csv(out)
    assert frame["method"].tolist() == ["hpmkd-tenth_size", "hpmkd-tenth_size_mlp"]
    assert not frame["note"].dropna().astype(str).str.startswith("error").any()
    # A student within a tenth of the teacher's nodes exists (a shallow tree).
    assert (frame["size_ratio"] >= 10).all()
    assert "| hpmkd-tenth_size_mlp vs hpmkd-tenth_size | all | 1 |" in (
        out.with_suffix(".md").read_text()
    )


def test_shared_teacher_budget_variants_spend_their_budget(tmp_path):
    out = tmp_path / "budgets.csv"
    variants = ["hpmkd-shared_teacher", "hpmkd-shared_teacher_budget2"]
    arguments = [*TINY_SPLIT, "--only-variants", *variants, "--out", str(out)]
    _run_script("run.py", arguments, timeout=120)
    frame = pd.read_csv(out).set_index("method")
    assert frame.index.tolist() == [
        "hpmkd-shared_teacher", "hard_tuned@shared", "hpmkd-shared_teacher_budget2"
    ]  # fmt: skip
    assert frame.loc[variants, "note"].str.startswith("shared teacher").all()
    # Budget 2 is a few fits on a row subset, one on all the rows and the
    # refit, against the default 10; the rows count student fits only.
    assert frame.loc["hpmkd-shared_teacher_budget2", "n_fits"] < (
        frame.loc["hpmkd-shared_teacher", "n_fits"]
    )
    markdown = out.with_suffix(".md").read_text()
    assert (
        "| hpmkd-shared_teacher_budget2 vs hpmkd-shared_teacher | all | 1 |" in markdown
    )
    assert "hpmkd-shared_teacher_budget2 vs hpmkd |" not in markdown


def test_only_deepbridge_keeps_just_its_row(tmp_path):
    # A venv whose python fails: the harness records the failure as the row.
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho 'no deepbridge here' >&2\nexit 1\n")
    python.chmod(0o755)
    out = tmp_path / "deepbridge.csv"
    arguments = [
        *TINY_SPLIT,
        "--search-max-rows", "10",
        "--only-deepbridge",
        "--with-deepbridge", str(tmp_path / "venv"),
        "--out", str(out),
    ]  # fmt: skip
    _run_script("run.py", arguments, timeout=120)
    frame = pd.read_csv(out)
    assert frame["method"].tolist() == ["deepbridge_hpm"]
    assert "no deepbridge here" in frame["note"].iloc[0]

    command = [sys.executable, str(BENCHMARKS / "run.py"), "--only-deepbridge"]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 2
    assert "--only-deepbridge needs --with-deepbridge" in completed.stderr


def test_transfer_set_measurement_writes_both_tables(tmp_path):
    out = tmp_path / "transfer.csv"
    arguments = [
        "--datasets", "synth_300_2c",
        "--pool-datasets", "synth_2k_2c",
        "--pool-train", "200",
        "--factor", "2",
        "--seeds", "1",
        "--configs", "2",
        "--families", "tree", "logistic",
        "--out", str(out),
    ]  # fmt: skip
    _run_script("transfer_sets.py", arguments, timeout=300)
    fixed = pd.read_csv(out)
    assert len(fixed) == 2 * 2
    for source in ("hard", "none", "munge", "interpolate"):
        assert fixed[source].between(0, 1).all()
    # Without a transfer set the targets differ, with it the rows too: the
    # distilled trees are not the hard-label ones.
    trees = fixed[fixed["family"] == "tree"]
    assert not np.allclose(trees["interpolate"], trees["hard"])
    pooled = pd.read_csv(tmp_path / "transfer_real_rows.csv")
    assert set(pooled["family"]) == {"tree", "logistic"}
    assert (pooled["n_train"] == 200).all() and pooled["real"].between(0, 1).all()
    report = out.with_suffix(".md").read_text()
    assert "| family | gain_none | gain_munge | gain_interpolate |" in report
    assert "gain_real" in report


def test_paired_summary_counts_wins_and_ties():
    run = _module("run")
    rows = []
    for seed, (kd, hard) in enumerate([(0.9, 0.8), (0.7, 0.7), (0.6, 0.8)]):
        for method, accuracy in (("kd_tuned", kd), ("hard_tuned", hard)):
            rows.append(
                dict(dataset="d", seed=seed, method=method, family="tree",
                     accuracy=accuracy, log_loss=1 - accuracy, fit_s=1.0)
            )  # fmt: skip
    summary = run.paired_summary(pd.DataFrame(rows))
    overall = summary[summary["family"] == "all"].iloc[0]
    assert overall["pairs"] == 3
    assert overall["win_rate"] == pytest.approx(0.5)
    assert overall["d_accuracy"] == pytest.approx((0.1 + 0.0 - 0.2) / 3)
    assert overall["d_log_loss"] == pytest.approx(-(0.1 + 0.0 - 0.2) / 3)


def test_merged_runs_count_each_split_once():
    run = _module("run")

    def row(seed, method, family, accuracy):
        return dict(dataset="d", seed=seed, method=method, family=family,
                    accuracy=accuracy)  # fmt: skip

    first = pd.DataFrame(
        [row(0, "hpmkd-tenth_size", "xgb", 0.9), row(0, "hard_tuned", "tree", 0.8),
         row(0, "hard_tuned", "xgb", 0.85), row(1, "hpmkd-tenth_size", "xgb", 0.7)]
    )  # fmt: skip
    # A later run repeats seed 0's variant, whose student is now a tree.
    later = pd.DataFrame([row(0, "hpmkd-tenth_size", "tree", 0.95)])
    merged, n_replaced = run.merge_runs([first, later])
    assert n_replaced == 1
    assert list(merged.columns) == run.COLUMNS
    variant = merged[merged["method"] == "hpmkd-tenth_size"]
    assert variant.sort_values("seed")["accuracy"].tolist() == [0.95, 0.7]
    # Per-family rows of different families are different rows.
    assert (merged["method"] == "hard_tuned").sum() == 2

    # A failed rerun does not replace a scored row, and is replaced by one.
    failed = pd.DataFrame([row(1, "hpmkd-tenth_size", "", float("nan"))])
    merged, n_replaced = run.merge_runs([first, failed])
    assert n_replaced == 1
    variant = merged[merged["method"] == "hpmkd-tenth_size"]
    assert variant.sort_values("seed")["accuracy"].tolist() == [0.9, 0.7]
    merged, _ = run.merge_runs([failed, first])
    assert merged["accuracy"].notna().all()


def test_retention_target_counts_data_sets_by_their_means_and_splits_alone():
    run = _module("run")

    def row(seed, retention, size_ratio):
        return dict(dataset="d", seed=seed, method="hpmkd", family="tree",
                    accuracy=0.9, retention=retention, size_ratio=size_ratio,
                    speedup=20.0)  # fmt: skip

    # Seed 0 meets the target, seed 1 misses it on size; their means meet it.
    frame, _ = run.merge_runs([pd.DataFrame([row(0, 1.0, 30.0), row(1, 1.0, 8.0)])])
    summary = run.target_summary(run.aggregate(frame), frame)
    assert summary.loc[0, "share"] == 1.0
    assert summary.loc[0, "split_share"] == 0.5


def test_plots_count_each_split_once(tmp_path):
    pytest.importorskip("matplotlib")
    plot = _module("plot")

    def row(seed, method, accuracy, size):
        return dict(dataset="d", seed=seed, method=method, family="tree",
                    accuracy=accuracy, size=size, fit_s=1.0)  # fmt: skip

    first = pd.DataFrame([row(0, "hpmkd", 0.7, 100), row(1, "hpmkd", 0.9, 300)])
    later = pd.DataFrame([row(0, "hpmkd", 0.8, 200)])
    paths = []
    for index, frame in enumerate((first, later)):
        paths.append(tmp_path / f"run{index}.csv")
        frame.to_csv(paths[-1], index=False)
    table = plot.plot_table([pd.read_csv(path) for path in paths])
    point = table[table["method"] == "hpmkd"].iloc[0]
    assert point["seeds"] == 2
    assert point["accuracy"] == pytest.approx(0.85)
    assert point["size"] == pytest.approx(250)
    drawn = plot.main([*map(str, paths), "--out", str(tmp_path / "plots")])
    assert [path.name for path in drawn] == ["d.png"]


def test_expected_calibration_error():
    run = _module("run")
    proba = np.array([[0.8, 0.2]] * 10)
    y = np.array([0] * 8 + [1] * 2)
    assert run.expected_calibration_error(y, proba) == pytest.approx(0.0)
    assert run.expected_calibration_error(
        np.ones(10, dtype=int), proba
    ) == pytest.approx(0.8)


def test_real_dataset_encodes_categories_and_keeps_missing_cells():
    datasets = _module("_datasets")
    manifest = {row["name"]: row for row in datasets.read_manifest()}
    if "adult" not in manifest:
        pytest.skip("../shared/datasets is not beside this checkout")
    adult = datasets.load("adult")
    row = manifest["adult"]
    assert adult.X.shape == (int(row["rows"]), int(row["n_features"]))
    assert adult.X.dtype == float
    assert int(np.isnan(adult.X).sum()) == int(row["missing_cells"])
    assert adult.n_classes == int(row["n_classes"])
    assert set(np.unique(adult.y)) == set(range(adult.n_classes))


def test_unknown_dataset_name_is_rejected():
    datasets = _module("_datasets")
    with pytest.raises(ValueError, match="Unknown data set 'nope'"):
        datasets.load("nope")


@pytest.mark.parametrize(
    "family, name, knobs",
    [
        ("xgboost", "xgb", ("n_estimators", "max_depth")),
        ("hgb", "hgb", ("max_iter", "max_leaf_nodes")),
        ("lightgbm", "lgbm", ("n_estimators", "num_leaves")),
        ("rf", "forest", ("n_estimators", "max_depth")),
        ("dt", "tree", ("max_depth",)),
    ],
)
def test_matched_baseline_reaches_every_size_of_the_search(family, name, knobs):
    # The hard-label baseline at equal fits must be able to be as large as
    # any student HPMKDClassifier's search can pick of the same family.
    from skhpmkd._search import N_SIZES, family_student

    run = _module("run")
    space = run.matched_space(name)
    for size in range(N_SIZES):
        params = family_student(family, size).get_params()
        for knob in knobs:
            low, high = space[knob].support()
            assert low <= params[knob] <= high, (family, size, knob)


def test_selection_leak_measurement_writes_both_tables(tmp_path):
    out = tmp_path / "leak.csv"
    arguments = [*TINY_SPLIT, "--alphas", "0", "0.5", "--out", str(out)]
    _run_script("selection_leak.py", arguments, timeout=300)
    results = pd.read_csv(out)
    assert len(results) == 2 * 2
    assert set(results["targets"]) == {"seen", "held_out"}
    # alpha=0 ignores the targets: both sources give the same hard-label student.
    hard = results[results["alpha"] == 0].set_index("targets")
    assert hard.loc["seen", "test_accuracy"] == hard.loc["held_out", "test_accuracy"]
    assert results["val_accuracy"].between(0, 1).all()
    report = out.with_suffix(".md").read_text()
    assert report.startswith("| data set | alpha picked, seen |")
    assert "| mean |" in report


def test_selection_leak_picks_the_first_best_alpha():
    leak = _module("selection_leak")
    rows = [
        ("seen", 0.0, 0.80, 0.90),
        ("seen", 0.5, 0.85, 0.70),
        ("held_out", 0.0, 0.80, 0.90),
        ("held_out", 0.5, 0.80, 0.60),
    ]
    results = pd.DataFrame(
        [
            {
                "dataset": "d",
                "seed": 0,
                "targets": targets,
                "alpha": alpha,
                "val_accuracy": val,
                "test_accuracy": test,
            }
            for targets, alpha, val, test in rows
        ]
    )
    picked = leak.picks(results).iloc[0]
    assert picked["seen_alpha"] == 0.5 and picked["seen_test"] == 0.70
    # A tie on the held-out rows goes to the smaller alpha.
    assert picked["held_out_alpha"] == 0.0 and picked["held_out_test"] == 0.90
    assert picked["hard_test"] == 0.90
    assert picked["seen_val_gain"] == pytest.approx(0.05)
    assert picked["held_out_val_gain"] == pytest.approx(0.0)
