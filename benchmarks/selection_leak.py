"""Does a held-out score favour soft targets when the teacher saw the held-out rows?

HPMKDClassifier scores its candidates on held-out training rows, but its
teacher is cross-fitted on every training row: the fold models that give the
other rows their out-of-fold targets were fitted on the held-out rows too. A
student that learns those targets learns something of the held-out labels.

This study measures that on the benchmark's splits and teacher. The training
rows are split as for the tuned baselines (``inner_train``, ``inner_val``).
The largest built-in XGBoost student of the search (150 rounds of depth 5)
learns the inner training rows with ``T=1``, no transfer set, and each
``alpha`` of ``--alphas`` (``0`` is the hard labels), from two sets of targets:

- ``seen``: the benchmark's out-of-fold targets, whose fold models saw the
  held-out rows (what the search does now);
- ``held_out``: out-of-fold targets of the same teacher cross-fitted on the
  inner training rows alone.

For each it records the held-out and the test accuracy. The table gives, per
data set, the ``alpha`` each set of targets would pick on the held-out rows
and the test accuracy of that pick.

Run from the repository root::

    python benchmarks/selection_leak.py --out benchmarks/results/selection_leak.csv
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from skhpmkd._search import family_student
from skhpmkd._soft_targets import fit_soft_student

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _datasets  # noqa: E402
import run  # noqa: E402

DATASETS = (
    "breast_cancer",
    "pima_diabetes",
    "german_credit",
    "banknote",
    "synth_1k_2c",
    "synth_1k_4c",
    "phoneme",
    "segment",
    "wine_quality_white",
    "mammography",
    "synth_5k_2c",
    "synth_5k_4c",
)
ALPHAS = (0.0, 0.3, 0.5, 0.7, 0.9)


def held_out_targets(split, cv):
    """Out-of-fold targets of the inner training rows from folds of those rows alone."""
    rows = split.inner_train
    teacher = run.make_teacher().set_params(random_state=split.seed)
    folds = StratifiedKFold(cv, shuffle=True, random_state=split.seed)
    return cross_val_predict(
        teacher,
        split.X_train[rows],
        split.y_train[rows],
        cv=folds,
        method="predict_proba",
    )


def study(name, seed, cv, alphas):
    split = run.make_split(_datasets.load(name), seed)
    run.fit_shared_teacher(split, cv)
    fit, val = split.inner_train, split.inner_val
    targets = {
        "seen": np.asarray(split.soft_targets)[fit],
        "held_out": held_out_targets(split, cv),
    }
    classes = np.arange(split.n_classes)
    X_fit, y_fit = split.X_train[fit], split.y_train[fit]
    rows = []
    for source, soft in targets.items():
        for alpha in alphas:
            student = family_student("xgboost", 3).set_params(random_state=seed)
            model, _ = fit_soft_student(
                student, X_fit, soft, y_fit, classes, alpha=alpha, temperature=1.0
            )
            rows.append(
                {
                    "dataset": name,
                    "seed": seed,
                    "targets": source,
                    "alpha": alpha,
                    "val_accuracy": accuracy_score(
                        split.y_train[val], model.predict(split.X_train[val])
                    ),
                    "test_accuracy": accuracy_score(
                        split.y_test, model.predict(split.X_test)
                    ),
                    "targets_accuracy": accuracy_score(y_fit, soft.argmax(axis=1)),
                }
            )
        print(
            f"{name:>20} seed={seed} {source:>8}: "
            + " ".join(
                f"a={r['alpha']:.1f} val={r['val_accuracy']:.4f} "
                f"test={r['test_accuracy']:.4f}"
                for r in rows
                if r["targets"] == source
            ),
            flush=True,
        )
    return rows


def picks(results):
    """Per data set and seed: the alpha each set of targets picks on the held-out rows."""
    out = []
    for (name, seed), group in results.groupby(["dataset", "seed"], sort=False):
        row = {"dataset": name, "seed": seed}
        hard = group[group.alpha == 0.0].iloc[0]
        row["hard_test"] = hard.test_accuracy
        for source in ("seen", "held_out"):
            part = group[group.targets == source]
            # The first best held-out score; ties go to the smaller alpha.
            best = part.loc[part.val_accuracy.idxmax()]
            row[f"{source}_alpha"] = best.alpha
            row[f"{source}_test"] = best.test_accuracy
            soft = part[part.alpha > 0]
            row[f"{source}_val_gain"] = soft.val_accuracy.max() - hard.val_accuracy
        out.append(row)
    return pd.DataFrame(out)


def markdown(table):
    means = table.groupby("dataset", sort=False).mean(numeric_only=True)
    lines = [
        "| data set | alpha picked, seen | its test acc. | alpha picked, "
        "held out | its test acc. | hard labels (alpha=0) test acc. | "
        "held-out gain of the best soft alpha, seen | same, held out |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in [*means.iterrows(), ("mean", means.mean())]:
        lines.append(
            f"| {name} | {row.seen_alpha:.2f} | {row.seen_test:.4f} | "
            f"{row.held_out_alpha:.2f} | {row.held_out_test:.4f} | "
            f"{row.hard_test:.4f} | {row.seen_val_gain:+.4f} | "
            f"{row.held_out_val_gain:+.4f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--teacher-cv", type=int, default=5)
    parser.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if 0.0 not in args.alphas:
        parser.error("--alphas must include 0 (the hard labels).")
    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = []
    with threadpool_limits(limits=1):
        for name in args.datasets:
            for seed in range(args.seeds):
                rows += study(name, seed, args.teacher_cv, args.alphas)
    results = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out, index=False)
    table = markdown(picks(results))
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
