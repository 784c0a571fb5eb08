"""Draw accuracy against student size and against fit time, one figure per data set.

Usage::

    python benchmarks/plot.py benchmarks/results/results.csv \
        --out benchmarks/results/plots

Reads the CSVs that ``run.py`` writes, merged as its report merges them (a
row that a later CSV repeats is replaced by the later one); each point is one
method (one student family for the per-family methods), averaged over seeds.
The teacher is drawn as a star, for reference.
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import aggregate, merge_runs  # noqa: E402

MARKERS = {
    "teacher": "*",
    "hard_default": "o",
    "hard_tuned": "s",
    "hard_tuned@hpmkd": "s",
    "hard_tuned@shared": "s",
    "kd_noaug": "v",
    "kd_default": "^",
    "kd_tuned": "D",
    "chain": "P",
    "grid": "X",
    "deepbridge_hpm": "x",
}


def _marker(method):
    base = method.split(":")[0]
    if base.startswith("hpmkd"):
        return "h"
    return MARKERS.get(base, "o")


def plot_table(frames):
    """Per data set and method, the mean over seeds of the merged runs' rows."""
    frame, _ = merge_runs(frames)
    return aggregate(frame)


def plot_dataset(table, dataset, out_dir):
    """Save ``<dataset>.png`` with the two panels; return its path."""
    rows = table[(table["dataset"] == dataset) & table["accuracy"].notna()]
    # Two legend columns, and a wider figure, once the methods no longer fit
    # the figure's height in one.
    legend_columns = 1 if len(rows) <= 24 else 2
    figure, (by_size, by_time) = plt.subplots(
        1, 2, figsize=(11 + 2 * legend_columns, 5.5), sharey=True
    )
    # 60 distinct colours: a data set has up to 42 methods.
    colours = [
        colour
        for name in ("tab20", "tab20b", "tab20c")
        for colour in plt.get_cmap(name).colors
    ]
    for index, (_, row) in enumerate(rows.iterrows()):
        style = dict(
            marker=_marker(row["method"]),
            s=160 if row["method"] == "teacher" else 55,
            color=colours[index % len(colours)],
            label=row["method"],
        )
        by_size.scatter(row["size"], row["accuracy"], **style)
        by_time.scatter(row["fit_s"], row["accuracy"], **style)
    by_size.set_xscale("log")
    by_time.set_xscale("log")
    by_size.set_xlabel("student size (tree nodes + coefficients, log)")
    by_time.set_xlabel(
        "fit wall time, s (log; distilled rows exclude the shared teacher)"
    )
    by_size.set_ylabel("test accuracy")
    for axis in (by_size, by_time):
        axis.grid(True, which="both", alpha=0.3)
    by_time.legend(
        loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, ncol=legend_columns
    )
    figure.suptitle(f"{dataset}: accuracy vs size and vs fit time (mean over seeds)")
    figure.tight_layout()
    path = Path(out_dir) / f"{dataset}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="+", help="CSV files written by run.py")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "plots")
    )
    args = parser.parse_args(argv)
    table = plot_table([pd.read_csv(path) for path in args.csv])
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [plot_dataset(table, name, out_dir) for name in table["dataset"].unique()]
    for path in paths:
        print(path)
    return paths


if __name__ == "__main__":
    main()
