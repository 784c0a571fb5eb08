"""Which transfer set helps a distilled student: none, MUNGE, interpolation, real rows.

Two measurements, both on the benchmark's splits and its HistGradientBoosting
teacher (out-of-fold soft targets on the training rows, its own probabilities
on new rows), with ``alpha=0.5`` and ``T=1``:

- fixed settings: for each family, ``--configs`` student settings drawn from
  the family's size space of ``run.py``; each is trained on the hard labels
  and distilled with no transfer set, a MUNGE set and an interpolated set of
  ``--factor`` times the training rows. Averaging over settings removes the
  noise of choosing one, so the difference to the hard-label fit is the effect
  of the targets alone;
- real rows (``--pool-train N``): the student learns from N training rows,
  and the rest of the training split, without its labels, is the best
  transfer set there can be; the synthetic ones are compared with it.

Run from the repository root::

    python benchmarks/transfer_sets.py --out benchmarks/results/transfer_sets.csv
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import ParameterSampler
from threadpoolctl import threadpool_limits

from skhpmkd._augment import transfer_rows
from skhpmkd._soft_targets import aligned_proba, fit_soft_student, student_labels
from skhpmkd._teachers import teacher_proba

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _datasets  # noqa: E402
import run  # noqa: E402

FIXED_DATASETS = (
    "breast_cancer",
    "pima_diabetes",
    "german_credit",
    "banknote",
    "phoneme",
    "synth_1k_2c",
    "synth_1k_4c",
    "segment",
    "wine_quality_white",
)
POOL_DATASETS = ("synth_20k_2c", "synth_20k_4c", "adult", "phoneme")
SOURCES = ("none", "munge", "interpolate")


def _accuracy(model, split, labels):
    proba = aligned_proba(model, split.X_test, labels)
    return accuracy_score(split.y_test, proba.argmax(axis=1))


def _distilled(student, split, X, targets, y, n_classes):
    classes = np.arange(n_classes)
    fitted, _ = fit_soft_student(student, X, targets, y, classes, alpha=0.5)
    return _accuracy(fitted, split, student_labels(fitted, classes))


def _with_transfer(split, X, targets, y, X_new):
    if not len(X_new):
        return X, targets, y
    classes = np.arange(split.n_classes)
    return (
        np.vstack([X, X_new]),
        np.vstack([targets, teacher_proba(split.teacher, X_new, classes)]),
        np.concatenate([y, np.full(len(X_new), -1)]),
    )


def _synthetic_rows(X, factor, seed):
    """The MUNGE and interpolated transfer sets of ``X``, one seed for both."""
    return {
        source: transfer_rows(X, factor, source, np.random.RandomState(seed))
        for source in SOURCES[1:]
    }


def _scores(split, name, params, rows_of):
    """Test accuracy of the hard-label fit, then of a distilled fit per source."""
    X, y = split.X_train, split.y_train
    hard = run._student(name, split.seed, params).fit(X, y)
    scores = dict(hard=_accuracy(hard, split, np.arange(split.n_classes)))
    for source, X_new in rows_of.items():
        data = _with_transfer(split, X, split.soft_targets, y, X_new)
        student = run._student(name, split.seed, params)
        scores[source] = _distilled(student, split, *data, split.n_classes)
    return scores


def fixed_settings(split, families, n_configs, factor):
    """Hard labels against each transfer source, per family and setting."""
    X = split.X_train
    rows_of = {
        "none": np.empty((0, X.shape[1])),
        **_synthetic_rows(X, factor, split.seed),
    }
    records = []
    for name in families:
        settings = ParameterSampler(
            run.FAMILIES[name].space, n_configs, random_state=split.seed
        )
        for index, params in enumerate(settings):
            records.append(
                dict(
                    dataset=split.dataset.name,
                    seed=split.seed,
                    family=name,
                    setting=index,
                    teacher=split.teacher_accuracy,
                    **_scores(split, name, params, rows_of),
                )
            )
    return records


def real_rows(split, families, n_train, factor):
    """A small training set, with the rest of the split as real unlabelled rows."""
    rng = np.random.RandomState(split.seed)
    order = rng.permutation(len(split.y_train))
    train, pool = order[:n_train], order[n_train:]
    n_new = int(factor * n_train)
    if len(pool) < n_new:
        return []
    small = run.Split(
        split.dataset,
        split.seed,
        split.X_train[train],
        split.X_test,
        split.y_train[train],
        split.y_test,
        np.arange(n_train),
        np.arange(0),
        split.X_batch,
    )
    run.fit_shared_teacher(small, cv=5)
    rows_of = {
        **_synthetic_rows(small.X_train, factor, split.seed),
        "real": split.X_train[pool[:n_new]],
    }
    return [
        dict(
            dataset=split.dataset.name,
            seed=split.seed,
            family=name,
            n_train=n_train,
            teacher=small.teacher_accuracy,
            **_scores(small, name, None, rows_of),
        )
        for name in families
    ]


def summary(frame, sources):
    """Per family: mean accuracy gain over the hard-label fit and its win rate.

    Settings and seeds are averaged per data set first, so every data set
    counts once in the win rate.
    """
    keys = ["family", "dataset"]
    per_dataset = frame.groupby(keys)[["hard", *sources]].mean()
    gains = per_dataset[list(sources)].sub(per_dataset["hard"], axis=0)
    table = gains.groupby("family").mean().add_prefix("gain_")
    wins = (np.sign(gains) * 0.5 + 0.5).groupby("family").mean().add_prefix("win_")
    return pd.concat([table, wins], axis=1).reset_index()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(FIXED_DATASETS))
    parser.add_argument("--pool-datasets", nargs="+", default=list(POOL_DATASETS))
    parser.add_argument("--families", nargs="+", default=["tree", "logistic", "xgb"])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--configs", type=int, default=4)
    parser.add_argument("--factor", type=float, default=5.0)
    parser.add_argument("--pool-train", type=int, default=1000)
    parser.add_argument(
        "--out", default=str(run.HERE / "results" / "transfer_sets.csv")
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    fixed, pooled = [], []
    with threadpool_limits(limits=1):
        for name in args.datasets:
            dataset = _datasets.load(name)
            for seed in range(args.seeds):
                split = run.make_split(dataset, seed)
                run.fit_shared_teacher(split, cv=5)
                fixed += fixed_settings(split, args.families, args.configs, args.factor)
        for name in args.pool_datasets:
            dataset = _datasets.load(name)
            for seed in range(args.seeds):
                split = run.make_split(dataset, seed)
                pooled += real_rows(split, args.families, args.pool_train, args.factor)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fixed_frame, pool_frame = pd.DataFrame(fixed), pd.DataFrame(pooled)
    fixed_frame.to_csv(out, index=False)
    pool_frame.to_csv(out.with_name(out.stem + "_real_rows.csv"), index=False)
    text = [
        f"## Fixed student settings: {args.factor:g}x transfer rows, gain in test "
        "accuracy over the hard-label fit (mean over data sets; win = share of "
        "data sets where it is higher)\n",
        run.markdown_table(summary(fixed_frame, SOURCES)),
    ]
    if not pool_frame.empty:
        text += [
            f"\n## {args.pool_train} training rows; {args.factor:g}x transfer rows, "
            "synthetic or real (the rest of the training split, unlabelled)\n",
            run.markdown_table(summary(pool_frame, (*SOURCES[1:], "real"))),
        ]
    report = "\n".join(text)
    out.with_suffix(".md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
