"""The data sets of the benchmark, as numeric arrays with integer class codes.

Three kinds, named as on the command line:

- the real tabular data sets listed in ``../shared/datasets/MANIFEST.tsv``
  (gzipped CSV with a header row; string columns are categorical and are
  ordinal-encoded here, before any split, which uses no label; empty cells
  become NaN);
- scikit-learn's bundled ``breast_cancer`` and ``digits``;
- ``make_classification`` data named ``synth_<rows>_<classes>c``, e.g.
  ``synth_5k_4c``: 20 features, 10 informative and 4 redundant, generated
  with ``random_state=0`` so every seed of the benchmark sees the same rows
  and only the split and the models change.
"""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.preprocessing import LabelEncoder, OrdinalEncoder

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SKLEARN_DATASETS = ("breast_cancer", "digits")
SYNTHETIC_SIZES = ("1k", "5k", "20k", "100k")
SYNTHETIC_CLASSES = (2, 4)
_SYNTHETIC = re.compile(r"^synth_(\d+)(k?)_(\d+)c$")


@dataclass
class Dataset:
    """Features ``X`` (float, NaN where missing), class codes ``y`` and provenance."""

    name: str
    X: np.ndarray
    y: np.ndarray
    class_names: np.ndarray
    source: str

    @property
    def n_classes(self):
        return len(self.class_names)


def read_manifest(root=DEFAULT_ROOT):
    """Rows of ``MANIFEST.tsv`` as dicts keyed by its header; empty without one."""
    manifest = Path(root) / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with manifest.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def synthetic_names():
    """Names of the ``make_classification`` data sets, smallest first."""
    return [
        f"synth_{size}_{n_classes}c"
        for size in SYNTHETIC_SIZES
        for n_classes in SYNTHETIC_CLASSES
    ]


def all_names(root=DEFAULT_ROOT):
    """Every data set of the full protocol: real ones present, bundled, synthetic."""
    real = [
        row["name"]
        for row in read_manifest(root)
        if (Path(root) / row["file"]).exists()
    ]
    return real + list(SKLEARN_DATASETS) + synthetic_names()


def _encode_target(values):
    encoder = LabelEncoder().fit(values)
    return encoder.transform(values), encoder.classes_


def _load_real(row, root):
    frame = pd.read_csv(Path(root) / row["file"])
    target = row["target"]
    if target not in frame.columns:
        raise ValueError(
            f"MANIFEST.tsv names target column {target!r} for {row['name']!r}, but "
            f"{row['file']} has columns {list(frame.columns)}."
        )
    y, class_names = _encode_target(frame.pop(target).to_numpy())
    categorical = [
        c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
    ]
    if categorical:
        # Label-free encoding, so doing it before the split leaks nothing;
        # missing cells stay NaN (OrdinalEncoder's encoded_missing_value).
        encoder = OrdinalEncoder(dtype=float)
        frame[categorical] = encoder.fit_transform(frame[categorical].astype(object))
    X = frame.to_numpy(dtype=float)
    return Dataset(row["name"], X, y, class_names, row.get("source", row["file"]))


def _load_synthetic(match):
    n_rows = int(match.group(1)) * (1000 if match.group(2) else 1)
    n_classes = int(match.group(3))
    X, y = make_classification(
        n_samples=n_rows,
        n_features=20,
        n_informative=10,
        n_redundant=4,
        n_classes=n_classes,
        random_state=0,
    )
    return X, y, np.arange(n_classes)


def load(name, root=DEFAULT_ROOT):
    """Load one data set by name.

    Parameters
    ----------
    name : str
        A name of :func:`all_names` (``synth_<rows>_<classes>c`` accepts any
        row count, e.g. ``synth_300_2c``).
    root : path-like
        Folder holding ``MANIFEST.tsv`` and the CSV files.

    Returns
    -------
    Dataset
    """
    for row in read_manifest(root):
        if row["name"] == name:
            return _load_real(row, root)
    if name == "breast_cancer":
        bunch = load_breast_cancer()
        return Dataset(name, bunch.data, bunch.target, bunch.target_names, "sklearn")
    if name == "digits":
        bunch = load_digits()
        return Dataset(name, bunch.data, bunch.target, np.arange(10), "sklearn")
    match = _SYNTHETIC.match(name)
    if match:
        X, y, class_names = _load_synthetic(match)
        return Dataset(name, X, y, class_names, "make_classification")
    raise ValueError(
        f"Unknown data set {name!r}; choose from {all_names(root)} or "
        "synth_<rows>[k]_<classes>c."
    )
