"""Command line: ``skhpmkd demo`` and ``skhpmkd distill data.csv --target COLUMN``."""

import argparse
import os
import re
import stat
import sys
import time

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import check_cv, train_test_split

from ._hpmkd import HPMKDClassifier
from ._memory import nearest_existing_folder
from ._sample_weight import MAX_BOOSTER_WEIGHT, weightless_fold
from ._search import FAMILIES, family_student, installed_families
from ._size import model_size
from ._frames import take_rows
from ._soft_targets import (
    _REFUSED_IN_NAMES,
    aligned_proba,
    is_round_based,
    refused_column_names,
    student_labels,
)
from ._teachers import _uses_oob

DATASETS = ("breast_cancer", "wine", "digits")
TEACHERS = ("hgb", "rf", "xgboost", "lightgbm")
MAX_CATEGORIES = 50
_LATENCY_ROWS = 1_000


class CLIError(ValueError):
    """A problem with the user's input, reported without a traceback."""


def make_teacher(name):
    """A strong teacher by name: 300-round boosting or a 300-tree forest."""
    if name == "hgb":
        return HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1)
    if name == "rf":
        return RandomForestClassifier(n_estimators=300, min_samples_leaf=1)
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1)
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        n_estimators=300, num_leaves=31, learning_rate=0.1, verbose=-1
    )


def load_dataset(name):
    """A dataset bundled with scikit-learn, as ``(X, y, feature_names)``."""
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    return bunch.data, bunch.target, list(bunch.feature_names)


def read_csv(path, target, weight=None):
    """Read a CSV with pandas.

    Text columns with at most ``MAX_CATEGORIES`` distinct values are
    ordinal-encoded. In the target column only an empty cell is missing (a
    label such as ``NA`` or ``None`` is a class); rows without a target are
    dropped, and the labels of the others keep the type they have in a column
    without such a cell (see :func:`_labels_without_gaps`): the file's exact
    integers, or bools.

    Parameters
    ----------
    path : str
        The CSV file, with a header row.
    target : str
        The name of the label column.
    weight : str, default=None
        The name of a column of row weights: numbers, each non-negative and
        at most float32's largest value, not all zero. It is not a feature.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
        The features, text columns coded as numbers.
    y : ndarray of shape (n_rows,)
        The labels.
    feature_names : list of str
        The names of the columns of ``X``.
    encoder : ColumnTransformer or None
        The fitted encoder of the text columns, or ``None`` without any.
    n_dropped : int
        The number of rows dropped for an empty target cell.
    sample_weight : ndarray of shape (n_rows,) or None
        The float weights of the rows kept, or ``None`` without ``weight``.

    Raises
    ------
    CLIError
        Missing pandas, missing or empty file, a column name repeated in the
        header, missing target column, an integer label beyond 64 bits, a
        feature column holding only missing values, a text column with too
        many distinct values to encode, an infinite value in a numeric
        feature column (a missing value is allowed), or a weight column that
        is missing, the target, not numeric, or holds a missing, infinite,
        negative or too large value, or only zeros.
    """
    try:
        import pandas as pd
    except ImportError as error:
        raise CLIError(
            "skhpmkd distill reads CSV files with pandas, which is not installed; "
            "install it with: pip install 'skhpmkd[cli]'"
        ) from error
    if not os.path.exists(path):
        raise CLIError(f"No such file: {path!r}.")
    if not os.path.isfile(path):
        raise CLIError(f"{path!r} is not a file; give the path of a CSV file.")
    try:
        # Whole columns at once: read in chunks, a column could mix numbers
        # and text, which the category encoder refuses.
        frame = pd.read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError as error:
        raise CLIError(f"The file {path!r} is empty.") from error
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise CLIError(f"{path!r} cannot be read as a CSV file: {error}") from error
    if frame.empty:
        raise CLIError(f"The file {path!r} has a header but no rows.")
    _check_header(_header(path), path)
    if target not in frame.columns:
        raise CLIError(
            f"The target column {target!r} is not in {path!r}; its columns are "
            f"{list(frame.columns)}.{_separator_hint(frame.columns)}"
        )
    if weight is not None:
        if weight == target:
            raise CLIError(
                f"--sample-weight {weight!r} is the target column; give a column "
                "of row weights."
            )
        if weight not in frame.columns:
            raise CLIError(
                f"The weight column {weight!r} is not in {path!r}; its columns are "
                f"{list(frame.columns)}."
            )
    labels = pd.read_csv(
        path, usecols=[target], keep_default_na=False, na_values=[""], low_memory=False
    )[target]
    if not pd.api.types.is_numeric_dtype(labels):
        # pandas keeps an empty cell as "" where it reads integers too large
        # for an int64 and a uint64 as text.
        labels = labels.mask(labels == "")
    frame[target] = labels
    n_rows = len(frame)
    # The 1-based row numbers (the header not counted) of the rows kept.
    row_numbers = np.flatnonzero(frame[target].notna().to_numpy()) + 1
    frame = frame.dropna(subset=[target])
    if frame.empty:
        raise CLIError(f"The target column {target!r} of {path!r} has no values.")
    y = frame.pop(target).to_numpy()
    if len(frame) < n_rows:
        y = _labels_without_gaps(y, path, target, row_numbers)
    sample_weight = None
    if weight is not None:
        sample_weight = _weights(frame.pop(weight), weight, path, row_numbers)
    if frame.shape[1] == 0:
        others = repr(target) if weight is None else f"{target!r} and {weight!r}"
        raise CLIError(f"{path!r} has no feature columns besides {others}.")
    _check_not_empty(frame, path, n_rows - len(frame))
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    for column in text:
        n_values = frame[column].nunique()
        if n_values > MAX_CATEGORIES:
            raise CLIError(
                f"The column {column!r} is not numeric and has {n_values} distinct "
                f"values (more than {MAX_CATEGORIES}), so it cannot be encoded as a "
                "category; convert it to numbers or drop it."
            )
    numeric = [c for c in frame.columns if c not in text]
    _check_finite(frame[numeric], row_numbers, path)
    encoder = None
    if text:
        from sklearn.compose import ColumnTransformer
        from sklearn.preprocessing import OrdinalEncoder

        encoder = ColumnTransformer(
            [
                (
                    "categories",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                    ),
                    text,
                )
            ],
            remainder="passthrough",
            verbose_feature_names_out=False,
        )
        # The raw columns, as the saved pipeline will get them: a
        # conversion here (to str, say) would code new rows differently.
        X = encoder.fit_transform(frame)
        names = list(encoder.get_feature_names_out())
    else:
        X = frame.to_numpy(dtype=float)
        names = list(frame.columns)
    X = np.asarray(X, dtype=float)
    return X, y, names, encoder, n_rows - len(frame), sample_weight


def _separator_hint(columns):
    """A hint for a file read as one column because it is not comma-separated,
    or ``""``."""
    if len(columns) != 1:
        return ""
    name = str(columns[0])
    count, separator = max((name.count(sep), sep) for sep in (";", "\t"))
    if not count:
        return ""
    separator = "';'" if separator == ";" else "tabs"
    return (
        f" The file seems to be separated by {separator}, but skhpmkd reads "
        "comma-separated files: save it with commas."
    )


def _header(path):
    """The column names of the CSV file ``path``, exactly as its header
    writes them.

    pandas renames a repeated name (a second ``label`` becomes ``label.1``);
    the header row is read here as a row of text with pandas' own parser, so
    that the names are those of the same row, read in the same way (a UTF-8
    byte order mark and blank lines before it skipped, quotes removed).
    """
    import pandas as pd

    row = pd.read_csv(
        path, header=None, nrows=1, dtype=str, na_filter=False, low_memory=False
    )
    return [str(name) for name in row.iloc[0].tolist()]


def _check_header(names, path):
    """Raise if the header ``names`` of ``path`` repeats a column name.

    pandas would read the repeats as other columns under new names
    (``label.1``, say), and the CLI as features: a copy of the target among
    them would leak it. Empty names, which pandas names by their position,
    are not compared.

    Raises
    ------
    CLIError
        A repeated name, naming each with its 1-based column numbers (the
        first four names and a count of the others, if more than five).
    """
    columns = {}
    for number, name in enumerate(names, start=1):
        if name:
            columns.setdefault(name, []).append(number)
    repeated = [(name, numbers) for name, numbers in columns.items() if numbers[1:]]
    if not repeated:
        return
    named = [
        f"{name!r} (columns {_listed([str(n) for n in numbers])})"
        for name, numbers in repeated
    ]
    named = _shortened(named)
    s = "s" if len(repeated) != 1 else ""
    raise CLIError(
        f"The header of {path!r} repeats the column name{s} {_listed(named)}; "
        "give every column its own name, or drop the repeated columns: each "
        "repeat would be read as another feature under a new name, and a copy "
        "of the target would leak it."
    )


def _labels_without_gaps(y, path, target, row_numbers):
    """The labels ``y`` of the rows with a target, typed as pandas types a
    column without an empty cell.

    An empty cell makes pandas read a column of integers as floats (or, for
    integers beyond int64 and uint64, as text or Python ints), and one of
    True and False as objects; once the rows of the empty cells are dropped,
    the labels are the file's integers, read exactly from its text (a float64
    rounds an integer beyond 2**53, which could merge two labels), or bools.

    Parameters
    ----------
    y : ndarray of shape (n_rows,)
        The labels of the rows kept.
    path : str
        The CSV file.
    target : str
        The name of the label column.
    row_numbers : ndarray of shape (n_rows,)
        The 1-based row number in the file (the header not counted) of each
        label.

    Returns
    -------
    y : ndarray of shape (n_rows,)
        The labels: int64 (uint64 beyond it, as pandas reads them) if each
        cell is an integer, bools if each is True or False, else ``y`` (with
        float labels that are whole numbers as int64, see
        :func:`_integer_labels`).

    Raises
    ------
    CLIError
        Integer labels that no 64-bit integer type holds.
    """
    if y.dtype.kind == "f":
        cells = _target_cells(path, target, row_numbers)
    elif y.dtype == object:
        if all(isinstance(value, (bool, np.bool_)) for value in y):
            return y.astype(bool)
        cells = y
    else:
        return y
    integers = _exact_integers(cells, target, path)
    return _integer_labels(y) if integers is None else integers


def _target_cells(path, target, row_numbers):
    """The text of the target cells of the rows ``row_numbers`` (1-based, the
    header not counted) of ``path``."""
    import pandas as pd

    cells = pd.read_csv(
        path,
        usecols=[target],
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        low_memory=False,
    )[target]
    return cells.to_numpy(dtype=object)[row_numbers - 1]


# An integer as pandas reads one: digits, with a sign and spaces around.
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def _exact_integers(cells, target, path):
    """The labels ``cells`` (text or Python ints) as an int64 array (uint64
    beyond it), or None unless each is an integer.

    Raises
    ------
    CLIError
        Integers that neither int64 nor uint64 holds.
    """
    values = []
    for cell in cells:
        if isinstance(cell, str) and _INTEGER.fullmatch(cell):
            values.append(int(cell))
        elif isinstance(cell, (int, np.integer)) and not isinstance(cell, bool):
            values.append(int(cell))
        else:
            return None
    low, high = min(values), max(values)
    for dtype in (np.int64, np.uint64):
        if np.iinfo(dtype).min <= low and high <= np.iinfo(dtype).max:
            return np.array(values, dtype=dtype)
    raise CLIError(
        f"The target column {target!r} of {path!r} holds integer labels from "
        f"{low} to {high}, which no 64-bit integer type holds; write them as "
        f"text (e.g. 'id{high}'), or number the classes with smaller integers."
    )


def _integer_labels(y):
    """``y`` as int64 if its labels are floats that are all whole numbers.

    An empty cell makes pandas read a column of integers as floats; once the
    rows of the empty cells are dropped, the labels are the file's integers.
    :func:`_labels_without_gaps` reads a column of integer cells exactly;
    this is for labels written otherwise (``1.0``, ``2e3``). Floats beyond
    2**53, which need not be the file's integers, are kept.
    """
    if y.dtype.kind != "f" or not np.all(np.abs(y) <= 2**53):
        return y
    if not np.all(y == np.round(y)):
        return y
    return y.astype(np.int64)


def _weights(column, name, path, row_numbers):
    """The values of the weight column ``column`` as floats, checked.

    Parameters
    ----------
    column : Series
        The weight column, without the rows dropped for an empty target.
    name : str
        The name of the column.
    path : str
        The CSV file, to name it.
    row_numbers : ndarray of shape (n_rows,)
        The 1-based row number in the file (the header not counted) of each
        value of ``column``.

    Returns
    -------
    sample_weight : ndarray of shape (n_rows,)
        The weights as floats.

    Raises
    ------
    CLIError
        A value that is not a number, missing, infinite, negative or above
        float32's largest value (naming the first row of those), or only
        zeros.
    """
    import pandas as pd

    where = f"The weight column {name!r} of {path!r}"
    numbers = pd.to_numeric(column, errors="coerce")
    # True and False are not weights, also where an empty cell in a dropped
    # row made the column one of mixed values.
    flags = column.map(lambda value: isinstance(value, (bool, np.bool_)))
    text = column[(numbers.isna() & column.notna()) | flags]
    if len(text):
        example = text.iloc[0]
        example = example.item() if isinstance(example, np.generic) else example
        raise CLIError(
            f"{where} is not numeric (e.g. {example!r}); give a column of "
            "non-negative numbers."
        )
    values = numbers.to_numpy(dtype=float)
    problems = [
        (np.isnan(values), "a missing weight (an empty cell or NaN)"),
        (np.isinf(values), "an infinite weight"),
        (values < 0, "a negative weight"),
    ]
    for bad, problem in problems:
        count = int(np.count_nonzero(bad))
        if count:
            example = float(values[bad][0])
            example = "" if np.isnan(example) else f" (e.g. {example!r})"
            raise CLIError(
                f"{where} has {count} row{'s' if count != 1 else ''} with "
                f"{problem}{example}; every weight must be a finite number >= 0."
            )
    large = values > MAX_BOOSTER_WEIGHT
    count = int(np.count_nonzero(large))
    if count:
        first = np.flatnonzero(large)[0]
        raise CLIError(
            f"{where} has {count} row{'s' if count != 1 else ''} with a weight "
            f"above {MAX_BOOSTER_WEIGHT!r}, the largest float32 (the first: "
            f"{float(values[first])!r} in row {row_numbers[first]} after the "
            "header); XGBoost and LightGBM hold weights as float32, so every "
            "weight must be at most that: divide the column by a constant, "
            "which keeps the rows' relative weights."
        )
    if not values.any():
        raise CLIError(f"{where} holds only zeros; give some row a positive weight.")
    return values


def _check_not_empty(features, path, n_dropped):
    """Raise if a feature column holds only missing values.

    No model learns anything from such a column, and
    HistGradientBoostingClassifier, the default teacher, fails on it with a
    message that names neither the column nor the missing values.

    Parameters
    ----------
    features : DataFrame
        The feature columns (numeric and text) of the rows with a target.
    path : str
        The CSV file, to name it.
    n_dropped : int
        The number of rows dropped for an empty target cell, which the
        columns are not checked in.

    Raises
    ------
    CLIError
        A column of empty cells or NaN only, naming the columns (the first
        four and a count of the others, if more than five).
    """
    empty = [name for name in features.columns if features[name].isna().all()]
    if not empty:
        return
    holds, them = ("holds", "it") if len(empty) == 1 else ("hold", "them")
    where = f"The {_feature_columns(empty)} of {path!r} {holds}"
    rows = " in the rows with a target" if n_dropped else ""
    raise CLIError(
        f"{where} only missing values (empty cells or NaN){rows}; drop {them}: "
        "a column without a value tells the models nothing."
    )


def _check_finite(features, row_numbers, path):
    """Raise if a numeric feature column holds an infinite value.

    A missing value (an empty cell or NaN) is allowed.

    Parameters
    ----------
    features : DataFrame
        The numeric feature columns.
    row_numbers : ndarray of shape (n_rows,)
        The 1-based row number in the file (the header not counted) of each
        row of ``features``.
    path : str
        The CSV file, to name it.

    Raises
    ------
    CLIError
        An infinite value (``inf``, ``-inf``, or a number too large for a
        float64), naming the columns, the count and the first row.
    """
    values = features.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isinf(values)
    if not bad.any():
        return
    counts = bad.sum(axis=0)
    columns = [(name, int(n)) for name, n in zip(features.columns, counts) if n]
    count = sum(n for _, n in columns)
    row, column = np.argwhere(bad)[0]
    example = float(values[row, column])
    s = "s" if count != 1 else ""
    if len(columns) == 1:
        where = f"The feature column {columns[0][0]!r} of {path!r} has"
        first = ""
    else:
        named = [f"{name!r} ({n} value{'s' if n != 1 else ''})" for name, n in columns]
        named = _shortened(named)
        where = f"The feature columns {_listed(named)} of {path!r} have"
        first = f"column {features.columns[column]!r}, "
    raise CLIError(
        f"{where} {count} infinite value{s} (the first: {example!r} in {first}row "
        f"{row_numbers[row]} after the header); features must be finite numbers "
        "(a number too large for a float64 reads as infinite), or empty cells for "
        "missing values."
    )


def _latency(model, X):
    rows = take_rows(X, np.arange(_LATENCY_ROWS) % len(X))
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        model.predict_proba(rows)
        best = min(best, time.perf_counter() - start)
    return 1000 * best * _LATENCY_ROWS / len(rows)


def _measure(proba, y_codes, teacher_pred, n_classes, sample_weight=None):
    pred = np.argmax(proba, axis=1)
    return {
        "accuracy": float(np.average(pred == y_codes, weights=sample_weight)),
        "log_loss": float(
            log_loss(
                y_codes,
                proba / proba.sum(axis=1, keepdims=True),
                labels=range(n_classes),
                sample_weight=sample_weight,
            )
        ),
        "agreement": float(np.average(pred == teacher_pred, weights=sample_weight)),
    }


def _size(model):
    try:
        return str(model_size(model))
    except ValueError:
        return "n/a"


def print_table(rows, file):
    """Print rows of ``(name, {column: value})`` as an aligned text table."""
    columns = [
        ("model", "{}"),
        ("accuracy", "{:.4f}"),
        ("log_loss", "{:.4f}"),
        ("agreement", "{:.4f}"),
        ("size", "{}"),
        ("latency_ms_per_1k", "{:.2f}"),
        ("fit_time_s", "{:.1f}"),
        ("models_fitted", "{}"),
    ]
    cells = [[name for name, _ in columns]]
    for row in rows:
        cells.append([fmt.format(row[name]) for name, fmt in columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        print(
            "  ".join(cell.rjust(width) for cell, width in zip(line, widths)), file=file
        )


def _has_skops():
    try:
        import skops.io  # noqa: F401
    except ImportError:
        return False
    return True


def _is_skops(path):
    """Whether ``path`` ends in ``.skops``, in any case (``.SKOPS`` too)."""
    return path.lower().endswith(".skops")


def saved_paths(path):
    """The files ``save_student`` writes for ``path``, in order.

    A ``.skops`` path (in any case, ``.SKOPS`` too) gets the skops format
    only; any other path gets joblib, with a skops copy next to it when skops
    is installed.
    """
    if _is_skops(path):
        return [path]
    if _has_skops():
        return [path, os.path.splitext(path)[0] + ".skops"]
    return [path]


def check_output(path, inputs=()):
    """Raise before any fit if the student cannot be saved to ``path``.

    Raises
    ------
    CLIError
        ``path`` (or the skops copy next to it) names a directory, something
        else that is not a regular file (a device such as ``/dev/null``, a
        named pipe or a socket), a file that cannot be written, or one of
        ``inputs``; its nearest existing folder is not a writable directory;
        or it ends in ``.skops`` (in any case) without skops installed.
    """
    if _is_skops(path) and not _has_skops():
        raise CLIError(
            f"--output {path!r} asks for the skops format, but skops is not "
            "installed; install it with: pip install skops"
        )
    if path.endswith(("/", os.sep)):
        raise CLIError(f"--output {path!r} is a directory; give a file name.")
    for target in saved_paths(path):
        target = os.path.abspath(target)
        if os.path.isdir(target):
            raise CLIError(f"--output {target!r} is a directory; give a file name.")
        if os.path.exists(target) and not os.path.isfile(target):
            # A model is saved in a regular file: /dev/null would discard it
            # (and, for root, the skops copy would land in /dev as
            # /dev/null.skops), and a named pipe would block the save until
            # something reads it.
            raise CLIError(
                f"--output {target!r} is {_file_kind(target)}, not a file the "
                "student can be saved in; give the path of a regular file."
            )
        if any(_same_file(source, target) for source in inputs):
            raise CLIError(
                f"--output {target!r} is the input file; give another file name."
            )
        if os.path.exists(target) and not os.access(target, os.W_OK):
            raise CLIError(f"--output {target!r} exists and cannot be written.")
        folder = nearest_existing_folder(target)
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
            raise CLIError(
                f"--output {target!r} cannot be written: {folder!r} is not writable."
            )


def _file_kind(path):
    """What the existing ``path``, not a regular file or a directory, is."""
    mode = os.stat(path).st_mode
    kinds = [
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((kind for test, kind in kinds if test(mode)), "not a regular file")


def _same_file(source, target):
    """Whether writing ``target`` would overwrite ``source``: the same path, or
    a link to it (symbolic or hard)."""
    if os.path.abspath(source) == target:
        return True
    try:
        return os.path.samefile(source, target)
    except OSError:  # one of them does not exist
        return False


def save_student(student, path, encoder=None):
    """Save the student (after ``encoder``, if any) and return the paths.

    The files are those of :func:`saved_paths`.

    Raises
    ------
    CLIError
        A file cannot be written.
    """
    model = student
    if encoder is not None:
        from sklearn.pipeline import make_pipeline

        model = make_pipeline(encoder, student)
    saved = []
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        for target in saved_paths(path):
            if _is_skops(target):
                import skops.io

                skops.io.dump(model, target)
            else:
                joblib.dump(model, target)
            saved.append(os.path.abspath(target))
    except OSError as error:
        raise CLIError(f"The student could not be saved: {error}") from error
    return saved


def run(X, y, args, *, encoder=None, feature_names=None, out=None, sample_weight=None):
    """Fit a teacher and HPMKDClassifier, print the table, save the student.

    With ``feature_names`` (and no ``encoder``, whose pipeline checks the
    columns), the models are fitted on a DataFrame of those columns, so that
    the saved student checks the columns it is given. With ``sample_weight``
    (the weights of the rows, named by ``args.sample_weight``), both models
    are fitted with the training rows' weights, and the test metrics are
    weighted by the test rows' weights.

    Raises
    ------
    CLIError
        A part of the split lacks a class, or has total weight 0; the
        training rows are too few for the search to hold out some and fit on
        the rest, or to fit a boosted student on the rest; the rows the
        teacher or the students are fitted on, or those the students are
        scored on, all have weight 0; or no student is within
        ``--max-student-size``; or an XGBoost or LightGBM teacher refuses a
        column name of the DataFrame it would be fitted on.
    """
    out = sys.stdout if out is None else out
    if feature_names is not None and encoder is None:
        import pandas as pd

        X = pd.DataFrame(X, columns=feature_names)
    _check_teacher_names(args.teacher, X)
    n_classes, n_test = len(np.unique(y)), int(np.ceil(args.test_size * len(y)))
    n_train = len(y) - n_test
    split = (
        f"--test-size {args.test_size} splits {len(y)} rows into {n_test} test "
        f"and {n_train} training rows"
    )
    if n_test < n_classes or n_train < n_classes:
        raise CLIError(
            f"{split}; each part needs a row of every one of the {n_classes} "
            "classes."
        )
    # HPMKDClassifier holds out max(n_classes, round(validation_fraction *
    # n_train)) training rows to score the students; at its default 0.2,
    # which the CLI keeps, that leaves none to fit them on exactly when there
    # are no more training rows than classes.
    if n_train == n_classes:
        raise CLIError(
            f"{split}, as many as the {n_classes} classes; the search holds out "
            "at least one training row of every class to score the students, "
            "which leaves none to fit them on: give more rows, or a smaller "
            "--test-size."
        )
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    # One split of every array: the unweighted split is unchanged.
    X_train, X_test, y_train, y_test, *weights = train_test_split(
        *arrays, test_size=args.test_size, random_state=args.random_state, stratify=y
    )
    w_train, w_test = weights if weights else (None, None)
    _check_split_classes(y, y_train, y_test, args)
    if sample_weight is not None:
        for part, part_weights in (("training", w_train), ("test", w_test)):
            if not np.sum(part_weights) > 0:
                raise CLIError(
                    f"The {part} rows of the split (--test-size {args.test_size}, "
                    f"--random-state {args.random_state}) have total weight 0; "
                    "give another --test-size or --random-state, or more rows "
                    "with a positive weight."
                )
    teacher = make_teacher(args.teacher)
    teacher.set_params(random_state=args.random_state)
    cv = _teacher_folds(teacher, y_train)
    if sample_weight is not None and not _uses_oob(teacher):
        _check_fold_weights(cv, y_train, w_train, args)
    start = time.perf_counter()
    hpmkd = HPMKDClassifier(
        clone(teacher),
        students=args.students,
        budget=args.budget,
        max_student_size=args.max_student_size,
        cv=cv,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    try:
        hpmkd.fit(X_train, y_train, sample_weight=w_train)
    except ValueError as error:
        message = _reworded(str(error), len(y_train), args)
        if message is None:
            raise
        raise CLIError(message) from error
    student_time = time.perf_counter() - start
    classes = hpmkd.classes_
    codes_test = np.searchsorted(classes, y_test)

    start = time.perf_counter()
    plain_teacher = clone(teacher).fit(
        X_train, np.searchsorted(classes, y_train), sample_weight=w_train
    )
    teacher_time = time.perf_counter() - start
    teacher_proba = aligned_proba(plain_teacher, X_test, np.arange(len(classes)))
    teacher_pred = np.argmax(teacher_proba, axis=1)
    student = hpmkd.student_
    # A boosted student is fitted on a bare array when the booster refuses a
    # column name; give it the test rows likewise, as sklearn warns otherwise.
    X_student = X_test
    if hasattr(X_test, "columns") and not hasattr(student, "feature_names_in_"):
        X_student = X_test.to_numpy()
    student_proba = aligned_proba(student, X_student, student_labels(student, classes))
    rows = [
        {
            "model": f"teacher ({type(teacher).__name__})",
            **_measure(teacher_proba, codes_test, teacher_pred, len(classes), w_test),
            "size": _size(plain_teacher),
            "latency_ms_per_1k": _latency(plain_teacher, X_test),
            "fit_time_s": teacher_time,
            "models_fitted": 1,
        },
        {
            "model": f"student ({type(student).__name__})",
            **_measure(student_proba, codes_test, teacher_pred, len(classes), w_test),
            "size": _size(student),
            "latency_ms_per_1k": _latency(student, X_student),
            "fit_time_s": student_time,
            "models_fitted": hpmkd.n_models_fitted_,
        },
    ]
    print(
        f"{len(X_train)} training rows, {len(X_test)} test rows, "
        f"{len(classes)} classes; best configuration {hpmkd.best_params_}",
        file=out,
    )
    if sample_weight is not None:
        print(
            "The fits and the test metrics are weighted by the column "
            f"{args.sample_weight!r}.",
            file=out,
        )
    print_table(rows, out)
    if hpmkd.max_student_size_ is not None:
        print(
            f"The search kept students of at most {hpmkd.max_student_size_} nodes "
            f"(--max-student-size {args.max_student_size}).",
            file=out,
        )
    teacher_fits = hpmkd.n_teacher_fits_
    print(
        f"The student's fit time includes {teacher_fits} teacher "
        f"fit{'s' if teacher_fits != 1 else ''} for its soft targets and "
        f"{hpmkd.n_student_fits_} student fits.",
        file=out,
    )
    saved = save_student(student, args.output, encoder)
    if not np.array_equal(student_labels(student, classes), classes):
        print(
            f"The student predicts class codes 0..{len(classes) - 1} for the "
            f"labels {classes.tolist()}.",
            file=out,
        )
    print("Saved the student to " + " and ".join(saved), file=out)
    return hpmkd


def _check_teacher_names(teacher, X):
    """Raise if the booster ``teacher`` refuses a column name of ``X``.

    The CLI fits its teacher on ``X`` as it is: a DataFrame of the CSV's
    columns when it has no text column (with one, the encoded array, without
    names). XGBoost and LightGBM refuse some characters in a column name
    (LightGBM with an error that is no ValueError); HPMKDClassifier gives
    its boosted students a bare array then, but not the teacher.

    Parameters
    ----------
    teacher : str
        The ``--teacher`` name.
    X : ndarray or DataFrame
        The features the teacher would be fitted on.

    Raises
    ------
    CLIError
        ``teacher`` is ``"xgboost"`` or ``"lightgbm"`` and a column name of
        ``X`` holds a character it refuses, naming those columns (the first
        four and a count of the others, if more than five).
    """
    bad = refused_column_names(teacher, X) if teacher in _REFUSED_IN_NAMES else []
    if not bad:
        return
    columns, s = _feature_columns(bad), "s" if len(bad) != 1 else ""
    library = {"xgboost": "XGBoost", "lightgbm": "LightGBM"}[teacher]
    raise CLIError(
        f"--teacher {teacher} cannot be fitted on the {columns}: {library} "
        "refuses a column name holding any of the characters "
        f"{' '.join(sorted(_REFUSED_IN_NAMES[teacher]))}. Rename the column{s}, "
        "or use --teacher hgb or --teacher rf."
    )


def _check_split_classes(y, y_train, y_test, args):
    """Raise unless both parts of the split hold a row of every class.

    The split is stratified, but it rounds each class's share of the test
    rows, so a class of few rows can fall wholly in one part: the models,
    fitted on the training part, would not learn it (and its test rows would
    be scored as another class), or the test metrics would not score it.

    Raises
    ------
    CLIError
        The training or the test part lacks a class, naming the classes and
        their numbers of rows (the first four and a count of the others, if
        more than five).
    """
    labels, counts = np.unique(y, return_counts=True)
    parts = (
        ("training", y_train, "the models cannot learn", "smaller"),
        ("test", y_test, "the test metrics cannot score", "larger"),
    )
    for part, part_labels, consequence, change in parts:
        present = set(np.unique(part_labels).tolist())
        missing = [
            (label, int(n))
            for label, n in zip(labels.tolist(), counts)
            if label not in present
        ]
        if not missing:
            continue
        named = [f"{label!r} ({n} row{'s' if n != 1 else ''})" for label, n in missing]
        named = _shortened(named)
        if len(missing) == 1:
            classes, them = f"class {named[0]}", "it"
            rows = "that class"
        else:
            classes, them = f"{len(missing)} classes {_listed(named)}", "them"
            rows = "those classes"
        raise CLIError(
            f"The {part} rows of the split (--test-size {args.test_size}, "
            f"--random-state {args.random_state}) hold no row of the {classes}, "
            f"so {consequence} {them}; give a {change} --test-size, or more rows "
            f"of {rows}."
        )


def _teacher_folds(teacher, y_train):
    """Folds to cross-fit ``teacher`` on ``y_train``: 5, or as many as the
    smallest class has rows; a bagged forest needs none (out-of-bag)."""
    labels, counts = np.unique(y_train, return_counts=True)
    if _uses_oob(teacher) or counts.min() >= 5:
        return 5
    if counts.min() < 2:
        raise CLIError(
            f"The class {labels.tolist()[np.argmin(counts)]!r} has a single "
            "training row after the test split; cross-fitting the teacher needs "
            "two of every class: give more rows, or --teacher rf."
        )
    return int(counts.min())


def _check_fold_weights(n_folds, y_train, w_train, args):
    """Raise unless every fold the teacher is cross-fitted on has some weight.

    HPMKDClassifier cross-fits the teacher on the folds ``check_cv`` makes of
    the int ``n_folds`` (stratified, not shuffled) for its soft targets, and
    refuses a fold whose training rows all have weight 0; its message names
    its ``cv``, which the CLI does not have.

    Raises
    ------
    CLIError
        The training rows of a fold all have weight 0.
    """
    rows = np.zeros((len(y_train), 1))
    splits = list(check_cv(n_folds, y_train, classifier=True).split(rows, y_train))
    index = weightless_fold(w_train, splits)
    if index is not None:
        raise CLIError(
            f"Every one of the {len(splits[index][0])} training rows of "
            f"cross-validation fold {index + 1} (of {n_folds}) has weight 0 "
            f"in the column {args.sample_weight!r}, so the teacher, "
            f"cross-fitted on {n_folds} folds of the training rows for its "
            "soft targets, cannot be fitted on that fold; give more rows a "
            "positive weight, or another --random-state or --test-size."
        )


# HPMKDClassifier's refusal of a split of the search without weight: it names
# its validation_fraction, which the CLI does not have.
_SEARCH_SPLIT_WITHOUT_WEIGHT = re.compile(
    r"Every one of the search's (?P<count>\d+) (?P<part>fit|held-out) rows has "
    r"sample_weight 0, so it cannot fit or score the students; "
)


def _reworded(message, n_train, args):
    """The CLI's words for HPMKDClassifier's ``message``, or None.

    Three refusals name library parameters the CLI does not have; they are
    reworded with its options, each matched narrowly, and any other message
    is left as it is.

    Parameters
    ----------
    message : str
        The message of the ValueError HPMKDClassifier raised.
    n_train : int
        The number of training rows it was fitted on.
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    message : str or None
        The reworded message, or None for any other message.
    """
    return (
        _search_split_message(message, n_train, args)
        or _boosting_rows_message(message, args)
        or _size_bound_message(message, args)
    )


def _search_split_message(message, n_train, args):
    """The refusal of a split of the search (into rows it fits the students on
    and rows it scores them on) whose rows all have weight 0, reworded (see
    :func:`_reworded`); the split is drawn with ``--random-state``."""
    match = _SEARCH_SPLIT_WITHOUT_WEIGHT.match(message)
    if match is None:
        return None
    count = int(match["count"])
    if match["part"] == "fit":
        rows = (
            "the search fits the students on (it holds out the other "
            f"{n_train - count} of the {n_train} to score them)"
        )
        task = "fit"
    else:
        rows = (
            "the search holds out to score the students (it fits them on the "
            f"other {n_train - count} of the {n_train})"
        )
        task = "score"
    return (
        f"Every one of the {count} training rows {rows} has weight 0 in the "
        f"column {args.sample_weight!r}, so it cannot {task} them; give more rows "
        "a positive weight, or another --random-state or --test-size."
    )


# HPMKDClassifier's refusal of a search that fits a boosted student on fewer
# rows than classes: it names its validation_fraction, which the CLI does not
# have.
_BOOSTING_WITH_TOO_FEW_ROWS = re.compile(
    r"The search fits the students on (?P<fit>\d+) of the (?P<train>\d+) training "
    r"rows \(validation_fraction=\S+ holds out the other (?P<held>\d+), at least "
    r"one of each class\) and (?P<transfer>\d+) transfer rows, fewer than the "
    r"(?P<classes>\d+) classes; the boosted students \[(?P<boosted>[^\]]+)\] need "
    r"a row of every class\. "
)


def _feature_columns(names):
    """``feature column 'a'``, or ``3 feature columns 'a', 'b' and 'c'`` (the
    first four and a count of the others, if more than five)."""
    named = _shortened([repr(str(name)) for name in names])
    if len(names) == 1:
        return f"feature column {named[0]}"
    return f"{len(names)} feature columns {_listed(named)}"


def _shortened(named):
    """``named``, or its first four and a count of the others if more than five."""
    return named if len(named) <= 5 else named[:4] + [f"{len(named) - 4} more"]


def _listed(names):
    """``names`` in words: ``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return " and ".join([", ".join(names[:-1]), names[-1]] if names[1:] else names)


def _boosting_rows_message(message, args):
    """The refusal of a search that would fit a boosted student on fewer rows
    than classes, reworded (see :func:`_reworded`)."""
    match = _BOOSTING_WITH_TOO_FEW_ROWS.match(message)
    if match is None:
        return None
    named = re.findall(r"'([^']+)'", match["boosted"])
    transfer = int(match["transfer"])
    near = f" and on {transfer} rows the teacher labels near them" if transfer else ""
    families = {
        name: is_round_based(family_student(name, 0)) for name in installed_families()
    }
    return (
        f"--test-size {args.test_size} leaves {match['train']} training rows; the "
        f"search holds out {match['held']} of them (at least one of each class) to "
        f"score the students and fits them on the other {match['fit']}{near}, "
        f"fewer than the {match['classes']} classes, but the boosted "
        f"student{'s' if named[1:] else ''} {_listed(named)} of "
        f"{'--students' if args.students else 'the default --students'} "
        f"need{'' if named[1:] else 's'} a row of every class among those. Give "
        "more rows, a smaller --test-size, or --students without "
        f"{_listed([name for name, boosted in families.items() if boosted])}: "
        f"{_listed([name for name, boosted in families.items() if not boosted])} "
        "need no row of every class."
    )


# HPMKDClassifier's refusal when no student is within its max_student_size
# alone (the CLI has no latency bound), in the search or in the refit on
# every training row.
_NO_STUDENT_WITHIN_SIZE = re.compile(
    r"No candidate student meets max_student_size=(?P<nodes>\d+) nodes"
    r"(?P<refit> when refitted on all training rows)?: (?P<best>of the (?:students "
    r"scored on all the fit rows|\d+ refitted configurations), the smallest has "
    r"size \d+\.)(?(refit) Loosen max_student_size\.)"
)


def _size_bound_message(message, args):
    """The refusal when no student is within the size bound, reworded (see
    :func:`_reworded`): the bound is named ``--max-student-size``, with its
    number of nodes."""
    match = _NO_STUDENT_WITHIN_SIZE.fullmatch(message)
    if match is None:
        return None
    nodes = int(match["nodes"])
    return (
        f"No candidate student meets the bound of {nodes} node"
        f"{'s' if nodes != 1 else ''} (--max-student-size {args.max_student_size})"
        f"{match['refit'] or ''}: {match['best']}"
        + (" Loosen --max-student-size." if match["refit"] else "")
    )


def check_target(y, name):
    """Raise unless ``y`` holds class labels that a stratified split can take.

    Raises
    ------
    CLIError
        Continuous values, a single class, or a class with a single row.
    """
    from sklearn.utils.multiclass import type_of_target

    if type_of_target(y) == "continuous":
        example = next(value for value in y if float(value) != int(float(value)))
        raise CLIError(
            f"The target column {name!r} holds continuous values (e.g. "
            f"{float(example)}); skhpmkd distils classifiers, so give a column "
            "of class labels."
        )
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2:
        raise CLIError(
            f"The target column {name!r} holds a single class; "
            "distillation needs at least two."
        )
    if counts.min() < 2:
        raise CLIError(
            f"The class {labels.tolist()[np.argmin(counts)]!r} of the target column "
            f"{name!r} has a single row; the train/test split needs at least two "
            "rows of every class."
        )


def _students(value):
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one student family")
    for name in names:
        if name not in FAMILIES:
            raise argparse.ArgumentTypeError(
                f"unknown student family {name!r}; choose from {', '.join(FAMILIES)}"
            )
        if name not in installed_families():
            raise argparse.ArgumentTypeError(
                f"the student family {name!r} needs {name}, which is not installed"
            )
        if names.count(name) > 1:
            raise argparse.ArgumentTypeError(f"the family {name!r} is listed twice")
    return names


def _teacher(value):
    if value in ("xgboost", "lightgbm") and value not in installed_families():
        raise argparse.ArgumentTypeError(f"{value} is not installed")
    return value


def _size_bound(value):
    try:
        bound = int(value)
    except ValueError:
        try:
            bound = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an int or a float; got {value!r}"
            ) from None
        if not 0 < bound < 1:
            raise argparse.ArgumentTypeError(
                "a share of the teacher's size must be a float in (0, 1), and a "
                f"node count an int; got {value}"
            )
        return bound
    if bound < 1:
        raise argparse.ArgumentTypeError(f"a node count must be >= 1; got {value}")
    return bound


def _number(kind, check, requirement):
    """An argparse type: ``kind(value)``, refused unless ``check`` holds."""

    def parse(value):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {'an int' if kind is int else 'a number'}; got {value!r}"
            ) from None
        if not check(number):
            raise argparse.ArgumentTypeError(f"must be {requirement}; got {value}")
        return number

    return parse


def build_parser():
    """The ``skhpmkd`` argument parser with its two subcommands."""
    parser = argparse.ArgumentParser(
        prog="skhpmkd",
        description="Distil a strong teacher into a small, fast student.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run HPMKDClassifier on a dataset bundled with scikit-learn"
    )
    demo.add_argument(
        "--dataset",
        choices=DATASETS,
        default="breast_cancer",
        help="scikit-learn's bundled dataset (default: breast_cancer)",
    )
    distill = commands.add_parser("distill", help="distil a model of a CSV file")
    distill.add_argument("csv", help="CSV file with a header row")
    distill.add_argument("--target", required=True, help="name of the label column")
    distill.add_argument(
        "--sample-weight",
        metavar="COLUMN",
        default=None,
        help="name of a column of non-negative row weights (not a feature); the "
        "fits and the test metrics are weighted by it",
    )
    for sub in (demo, distill):
        sub.add_argument(
            "--teacher",
            choices=TEACHERS,
            type=_teacher,
            default="hgb",
            help="the model to distil, with 300 rounds or trees (default: hgb)",
        )
        sub.add_argument(
            "--students",
            type=_students,
            default=None,
            help="comma-separated student families (default: lr, dt and one "
            "booster, xgboost when installed)",
        )
        sub.add_argument(
            "--budget",
            type=_number(float, lambda x: 1 <= x < np.inf, ">= 1 and finite"),
            default=10.0,
            help="full-data student fits the search may spend (default: 10)",
        )
        sub.add_argument(
            "--max-student-size",
            type=_size_bound,
            default=None,
            help="largest student in nodes (an int), or as a share of the "
            "teacher's size (a float in (0, 1), e.g. 0.1 for ten times smaller)",
        )
        sub.add_argument(
            "--test-size",
            type=_number(float, lambda x: 0 < x < 1, "in (0, 1)"),
            default=0.25,
            help="share of the rows held out to evaluate (default: 0.25)",
        )
        sub.add_argument(
            "--output",
            default="student.joblib",
            help="file for the student: joblib, with a .skops copy next to it "
            "when skops is installed; a name ending in .skops gets skops only "
            "(default: student.joblib)",
        )
        sub.add_argument(
            "--random-state",
            type=_number(int, lambda x: 0 <= x < 2**32, "in [0, 2**32)"),
            default=0,
            help="seed of the split, the teacher and the search (default: 0)",
        )
        sub.add_argument(
            "--n-jobs",
            type=_number(int, lambda x: x != 0, "a non-zero int"),
            default=None,
            help=(
                "parallel workers of the teacher's folds and the search; -1 for "
                "every core (default: one)"
            ),
        )
        sub.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def main(argv=None):
    """Entry point of the ``skhpmkd`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_output(args.output, [args.csv] if args.command == "distill" else [])
        demo = args.command == "demo"
        if demo:
            X, y, _ = load_dataset(args.dataset)
            encoder = weights = None
        else:
            X, y, names, encoder, n_dropped, weights = read_csv(
                args.csv, args.target, args.sample_weight
            )
            check_target(y, args.target)
            if n_dropped:
                print(
                    f"skhpmkd: dropped {n_dropped} row{'s' if n_dropped != 1 else ''} "
                    f"with an empty {args.target!r} cell",
                    file=sys.stderr,
                )
        run(
            X,
            y,
            args,
            encoder=encoder,
            feature_names=None if demo else names,
            sample_weight=weights,
        )
    except ValueError as error:
        print(f"skhpmkd: error: {error}", file=sys.stderr)
        return 2
    return 0
