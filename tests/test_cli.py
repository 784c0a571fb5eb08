"""The ``skhpmkd`` command line: demo, distill, and its error messages."""

import importlib.util
import os
import subprocess
import sys

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose

from skhpmkd._cli import build_parser, main

LIGHT = ["--teacher", "rf", "--students", "dt,lr", "--budget", "3", "--quiet"]


def test_demo_prints_the_table_and_saves_the_student(tmp_path, capsys):
    output = tmp_path / "student.joblib"
    assert main(["demo", "--dataset", "wine", *LIGHT, "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert "teacher (RandomForestClassifier)" in out
    for column in (
        "accuracy",
        "log_loss",
        "agreement",
        "size",
        "latency",
        "models_fitted",
    ):
        assert column in out
    assert f"Saved the student to {output}" in out
    student = joblib.load(output)
    assert student.predict_proba(np.zeros((1, 13))).shape == (1, 3)


def test_demo_with_a_size_bound_relative_to_the_teacher(tmp_path, capsys):
    output = tmp_path / "student.joblib"
    arguments = ["demo", "--dataset", "wine", *LIGHT, "--output", str(output)]
    assert main([*arguments, "--max-student-size", "0.05"]) == 0
    out = capsys.readouterr().out
    sizes = {
        line.split()[0]: int(line.split()[-4])
        for line in out.splitlines()
        if line.split()[0] in ("teacher", "student")
    }
    bound = int(out.split("kept students of at most ")[1].split()[0])
    assert sizes["student"] <= bound
    # The printed teacher is refitted apart from HPMKDClassifier's, so its size
    # is close to, not equal to, the size the bound was taken from.
    assert bound == pytest.approx(0.05 * sizes["teacher"], rel=0.2)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--max-student-size", "tenth"])
    assert "must be an int or a float; got 'tenth'" in capsys.readouterr().err


def test_distill_encodes_text_columns_and_saves_a_pipeline(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    n = 300
    colour = rng.choice(["red", "green", "blue"], size=n)
    x = rng.normal(size=n)
    label = np.where((x > 0) ^ (colour == "red"), "yes", "no")
    path = tmp_path / "data.csv"
    pd.DataFrame({"x": x, "colour": colour, "label": label}).to_csv(path, index=False)
    output = tmp_path / "out" / "model.joblib"
    code = main(
        ["distill", str(path), "--target", "label", *LIGHT, "--output", str(output)]
    )
    assert code == 0
    model = joblib.load(output)
    frame = pd.DataFrame({"x": [1.0, 1.0], "colour": ["red", "green"]})
    assert model.predict(frame).tolist() == ["no", "yes"]
    assert "best configuration" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "is empty"),
        ("a,b\n", "has a header but no rows"),
        ("a,b\n1,2\n3,4\n", "target column 'label' is not in"),
        (
            "id,label\n" + "".join(f"row{i},{i % 2}\n" for i in range(60)),
            "The column 'id' is not numeric and has 60 distinct values",
        ),
        ("a,label\n1,x\n2,x\n", "holds a single class"),
        ("a,label\n1,\n2,\n", "The target column 'label' of"),
    ],
)
def test_distill_reports_bad_files_clearly(tmp_path, capsys, content, message):
    pytest.importorskip("pandas")
    path = tmp_path / "data.csv"
    path.write_text(content)
    assert main(["distill", str(path), "--target", "label", *LIGHT]) == 2
    assert message in capsys.readouterr().err


def test_distill_refuses_a_continuous_target_and_a_one_row_class(tmp_path, capsys):
    pytest.importorskip("pandas")
    path = tmp_path / "data.csv"
    path.write_text("a,label\n" + "".join(f"{i},{i / 7:.3f}\n" for i in range(1, 40)))
    assert main(["distill", str(path), "--target", "label", *LIGHT]) == 2
    assert "holds continuous values (e.g. 0.143)" in capsys.readouterr().err
    path.write_text(
        "a,label\n" + "".join(f"{i},{'x' if i else 'y'}\n" for i in range(40))
    )
    assert main(["distill", str(path), "--target", "label", *LIGHT]) == 2
    assert "The class 'y' of the target column 'label' has a single row" in (
        capsys.readouterr().err
    )


def test_output_is_checked_before_the_fit(tmp_path, capsys, monkeypatch):
    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    assert main(["demo", *LIGHT, "--output", str(tmp_path)]) == 2
    assert "is a directory; give a file name" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["demo", *LIGHT, "--output", str(blocker / "sub" / "s.joblib")]) == 2
    assert "cannot be written" in capsys.readouterr().err
    assert fitted == []


def test_output_problems_are_found_before_the_fit(tmp_path, capsys, monkeypatch):
    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    monkeypatch.chdir(tmp_path)
    assert main(["demo", *LIGHT, "--output", "new/"]) == 2
    assert "'new/' is a directory" in capsys.readouterr().err
    data = tmp_path / "data.csv"
    data.write_text("a,label\n1,x\n2,y\n3,x\n4,y\n")
    arguments = ["distill", str(data), "--target", "label", "--output", "data.csv"]
    assert main(arguments) == 2
    assert "is the input file" in capsys.readouterr().err
    # So is a link to it: saving through it would overwrite the data.
    os.symlink(data, tmp_path / "soft.joblib")
    os.link(data, tmp_path / "hard.joblib")
    for link in ("soft.joblib", "hard.joblib"):
        arguments[-1] = link
        assert main(arguments) == 2
        assert "is the input file" in capsys.readouterr().err
    assert data.read_text().startswith("a,label")
    if importlib.util.find_spec("skops") is not None:
        # The skops copy next to a joblib file is checked too.
        (tmp_path / "model.skops").mkdir()
        assert main(["demo", *LIGHT, "--output", "model.joblib"]) == 2
        assert "model.skops' is a directory" in capsys.readouterr().err
    assert fitted == []
    assert not (tmp_path / "model.joblib").exists()


def test_a_failed_save_is_reported_without_a_traceback(tmp_path, capsys, monkeypatch):
    def full_disk(model, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("skhpmkd._cli.joblib.dump", full_disk)
    output = tmp_path / "student.joblib"
    assert main(["demo", "--dataset", "wine", *LIGHT, "--output", str(output)]) == 2
    assert "could not be saved: [Errno 28] No space left" in capsys.readouterr().err


def test_the_saved_encoder_codes_raw_rows_as_in_training(tmp_path):
    # A yes/no column with a missing value is read as Python bools and NaN;
    # the saved pipeline must code the raw rows as the training rows were.
    pd = pytest.importorskip("pandas")
    from skhpmkd._cli import read_csv

    path = tmp_path / "data.csv"
    path.write_text(
        "flag,colour,x,label\nTrue,red,1,a\nFalse,blue,2,b\n,,3,a\n"
        "True,red,4,b\nFalse,blue,5,a\n"
    )
    X, _, names, encoder, _, weights = read_csv(str(path), "label")
    assert weights is None
    raw = pd.read_csv(path).drop(columns="label")
    assert names == ["flag", "colour", "x"]
    assert_allclose(encoder.transform(raw), X)
    assert_allclose(X[:, :2], [[1, 1], [0, 0], [np.nan, np.nan], [1, 1], [0, 0]])


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--budget", "0"], "argument --budget: must be >= 1 and finite; got 0"),
        (["--budget", "inf"], "argument --budget: must be >= 1 and finite; got inf"),
        (["--test-size", "1.5"], "argument --test-size: must be in (0, 1); got 1.5"),
        (["--random-state", "-1"], "argument --random-state: must be in [0, 2**32)"),
        (["--n-jobs", "0"], "argument --n-jobs: must be a non-zero int; got 0"),
        (["--max-student-size", "0"], "a node count must be >= 1; got 0"),
        (["--max-student-size", "2.5"], "must be a float in (0, 1), and a node"),
        (["--max-student-size", "1.0"], "a node count an int; got 1.0"),
        (["--students", "lr,lr"], "the family 'lr' is listed twice"),
        (["--students", ","], "give at least one student family"),
    ],
)
def test_bad_option_values_name_the_option(capsys, arguments, message):
    with pytest.raises(SystemExit) as error:
        build_parser().parse_args(["demo", *arguments])
    assert error.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: skhpmkd demo")
    assert message in err


def test_a_missing_library_is_named_by_the_subcommand(capsys, monkeypatch):
    monkeypatch.setattr("skhpmkd._cli.installed_families", lambda: ["lr", "dt"])
    for option in (["--teacher", "xgboost"], ["--students", "dt,lightgbm"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["demo", *option])
        err = capsys.readouterr().err
        assert err.startswith("usage: skhpmkd demo")
        assert "is not installed" in err


def test_a_skops_output_gets_skops_only(tmp_path, capsys):
    sio = pytest.importorskip("skops.io")
    output = tmp_path / "student.skops"
    assert main(["demo", "--dataset", "wine", *LIGHT, "--output", str(output)]) == 0
    assert f"Saved the student to {output}\n" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student.skops"]
    student = sio.load(output, trusted=sio.get_untrusted_types(file=output))
    assert hasattr(student, "predict_proba")


def test_missing_file_and_bad_family(tmp_path, capsys):
    assert main(["distill", str(tmp_path / "none.csv"), "--target", "y"]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main(["distill", str(tmp_path), "--target", "y"]) == 2
    assert "is not a file; give the path of a CSV file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--students", "dt,svm"])
    assert "unknown student family 'svm'" in capsys.readouterr().err


def test_python_dash_m_runs_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "skhpmkd", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "demo" in result.stdout and "distill" in result.stdout


def _iris_csv(path, labels):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    lines = ["sepal_l,sepal_w,petal_l,petal_w,label"]
    lines += [",".join(map(str, row)) + f",{labels[c]}" for row, c in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")


def test_labels_pandas_reads_as_missing_are_classes(tmp_path, capsys):
    pytest.importorskip("pandas")
    path, output = tmp_path / "severity.csv", tmp_path / "student.joblib"
    _iris_csv(path, ["None", "NA", "High"])
    with path.open("a") as file:
        file.write("5.0,3.0,1.5,0.2,\n")  # an empty target: dropped, and said
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    assert main([*arguments, "--output", str(output)]) == 0
    captured = capsys.readouterr()
    assert "112 training rows, 38 test rows, 3 classes" in captured.out
    assert "dropped 1 row with an empty 'label' cell" in captured.err
    assert sorted(joblib.load(output).classes_) == ["High", "NA", "None"]


def test_integer_labels_stay_integers_after_an_empty_target_cell(tmp_path, capsys):
    # The empty cell makes pandas read the labels as floats; the student must
    # still have the file's integer classes.
    pd = pytest.importorskip("pandas")
    path, output = tmp_path / "iris.csv", tmp_path / "student.joblib"
    _iris_csv(path, [0, 1, 2])
    with path.open("a") as file:
        file.write("5.0,3.0,1.5,0.2,\n")
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    assert main([*arguments, "--output", str(output)]) == 0
    captured = capsys.readouterr()
    assert "dropped 1 row with an empty 'label' cell" in captured.err
    assert "3 classes" in captured.out
    student = joblib.load(output)
    assert student.classes_.dtype.kind == "i"
    assert student.classes_.tolist() == [0, 1, 2]
    rows = pd.read_csv(path).dropna().drop(columns="label")
    predictions = student.predict(rows)
    assert predictions.dtype.kind == "i"
    assert set(predictions.tolist()) <= {0, 1, 2}
    # Labels that are not whole numbers are still refused as continuous.
    _iris_csv(path, [0.5, 1.5, 2.5])
    with path.open("a") as file:
        file.write("5.0,3.0,1.5,0.2,\n")
    assert main([*arguments, "--output", str(output)]) == 2
    assert "holds continuous values (e.g. 0.5)" in capsys.readouterr().err


@pytest.mark.parametrize("separator, name", [(";", "';'"), ("\t", "tabs")])
def test_a_file_not_separated_by_commas_gets_a_hint(tmp_path, capsys, separator, name):
    pytest.importorskip("pandas")
    path = tmp_path / "data.csv"
    rows = [["a", "b", "label"]] + [
        [str(i), str(i % 3), "xy"[i % 2]] for i in range(20)
    ]
    path.write_text("".join(separator.join(row) + "\n" for row in rows))
    assert main(["distill", str(path), "--target", "label", *LIGHT]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skhpmkd: error: The target column 'label' is not in")
    assert (
        f"The file seems to be separated by {name}, but skhpmkd reads "
        "comma-separated files" in err
    )
    assert "Traceback" not in err
    # A one-column file without such a separator gets no hint.
    path.write_text("a\n1\n2\n")
    assert main(["distill", str(path), "--target", "label", *LIGHT]) == 2
    err = capsys.readouterr().err
    assert "its columns are ['a']." in err
    assert "seems to be separated" not in err


def test_a_numeric_csv_gives_a_student_that_checks_its_columns(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    path, output = tmp_path / "iris.csv", tmp_path / "student.joblib"
    _iris_csv(path, [0, 1, 2])
    assert (
        main(
            ["distill", str(path), "--target", "label", *LIGHT, "--output", str(output)]
        )
        == 0
    )
    student = joblib.load(output)
    columns = ["sepal_l", "sepal_w", "petal_l", "petal_w"]
    assert list(student.feature_names_in_) == columns
    rows = pd.read_csv(path).drop(columns="label")
    with pytest.raises(ValueError, match="feature names"):
        student.predict(rows[columns[::-1]])


def test_a_small_csv_cross_fits_the_teacher_on_fewer_folds(tmp_path, capsys):
    pytest.importorskip("pandas")
    path, output = tmp_path / "small.csv", tmp_path / "student.joblib"
    rows = [f"{i},{i * 3 % 7},{i % 2}" for i in range(1, 11)]
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    arguments = ["distill", str(path), "--target", "label", "--teacher", "hgb"]
    arguments += ["--students", "dt,lr", "--budget", "2", "--quiet"]
    assert main([*arguments, "--output", str(output)]) == 0
    assert "7 training rows" in capsys.readouterr().out
    rare = [f"{i},{i % 5},{int(i < 2)}" for i in range(22)]  # two rows of 1
    path.write_text("a,b,label\n" + "\n".join(rare) + "\n")
    assert main([*arguments, "--output", str(output)]) == 2
    message = "The class 1 has a single training row after the test split"
    assert message in capsys.readouterr().err
    path.write_text("a,b,label\n" + "\n".join(rows[:4]) + "\n")
    assert main([*arguments, "--output", str(output)]) == 2
    message = "--test-size 0.25 splits 4 rows into 1 test and 3 training rows"
    assert message in capsys.readouterr().err


def _weighted_csv(path, n=300, seed=0):
    """A noisy two-class CSV with a weight column ``w``; returns its frame."""
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n, n_features=4, n_informative=2, flip_y=0.2, random_state=seed
    )
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    # Heavy rows on one side of a feature, and some rows of weight 0.
    frame["w"] = np.where(X[:, 0] > 0, 3.0, 0.5) * rng.randint(0, 3, size=n)
    frame["label"] = np.where(y == 1, "yes", "no")
    frame.to_csv(path, index=False)
    return frame


def test_a_weighted_csv_keeps_the_weights_out_of_the_features(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    path, output = tmp_path / "data.csv", tmp_path / "student.joblib"
    frame = _weighted_csv(path)
    frame["colour"] = np.where(frame["a"] > 1, "red", "blue")
    frame.to_csv(path, index=False)
    with path.open("a") as file:
        file.write("0.1,0.2,0.3,0.4,,,red\n")  # no target, no weight: dropped
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    arguments += ["--sample-weight", "w", "--output", str(output)]
    before = path.read_text()
    assert main(arguments) == 0
    captured = capsys.readouterr()
    assert "The fits and the test metrics are weighted by the column 'w'." in (
        captured.out
    )
    assert "dropped 1 row with an empty 'label' cell" in captured.err
    assert path.read_text() == before
    model = joblib.load(output)  # the encoder, then the student
    assert sorted(model.feature_names_in_) == ["a", "b", "c", "colour", "d"]
    assert model.steps[-1][1].n_features_in_ == 5
    rows = pd.read_csv(path).drop(columns=["label", "w"]).head(3)
    assert model.predict(rows).shape == (3,)


def test_the_weights_reach_the_fits_and_the_metrics(tmp_path, capsys, monkeypatch):
    pytest.importorskip("pandas")
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split

    import skhpmkd._cli as cli

    path, output = tmp_path / "data.csv", tmp_path / "student.joblib"
    frame = _weighted_csv(path)
    received, teacher_weights = [], []
    hpmkd_fit, forest_fit = cli.HPMKDClassifier.fit, RandomForestClassifier.fit

    def record_hpmkd(self, X, y, sample_weight=None):
        received.append(sample_weight)
        return hpmkd_fit(self, X, y, sample_weight=sample_weight)

    def record_forest(self, X, y, sample_weight=None):
        teacher_weights.append(sample_weight)
        return forest_fit(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(cli.HPMKDClassifier, "fit", record_hpmkd)
    monkeypatch.setattr(RandomForestClassifier, "fit", record_forest)
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    arguments += ["--sample-weight", "w", "--output", str(output)]
    assert main(arguments) == 0
    out = capsys.readouterr().out

    features = frame[["a", "b", "c", "d"]]
    X_train, X_test, _, y_test, w_train, w_test = train_test_split(
        features,
        frame["label"].to_numpy(),
        frame["w"].to_numpy(),
        test_size=0.25,
        random_state=0,
        stratify=frame["label"],
    )
    assert len(received) == 1
    assert_allclose(received[0], w_train)
    # The printed teacher, fitted last, gets the training weights too.
    assert_allclose(teacher_weights[-1], w_train)

    student = joblib.load(output)
    assert list(student.feature_names_in_) == ["a", "b", "c", "d"]
    correct = student.predict(X_test) == y_test
    accuracy = np.average(correct, weights=w_test)
    assert f"{accuracy:.4f}" != f"{correct.mean():.4f}"  # the weights matter here
    loss = log_loss(
        y_test,
        student.predict_proba(X_test),
        labels=student.classes_,
        sample_weight=w_test,
    )
    row = next(line for line in out.splitlines() if line.split()[:1] == ["student"])
    printed = row.split(")")[1].split()
    assert printed[:2] == [f"{accuracy:.4f}", f"{loss:.4f}"]
    assert f"{len(X_train)} training rows, {len(X_test)} test rows" in out


def _weight_cases():
    good = ["1", "2", "0", "0.5"] * 10
    labels = ["x", "y"] * 20

    def content(weights, header="a,w,label"):
        rows = [f"{i},{w},{c}" for i, (w, c) in enumerate(zip(weights, labels))]
        return header + "\n" + "\n".join(rows) + "\n"

    def replace(value):
        return content([value] + good[1:])

    return [
        (content(good), "weight", "The weight column 'weight' is not in"),
        (content(good), "label", "--sample-weight 'label' is the target column"),
        (replace("heavy"), "w", "The weight column 'w' of"),
        (replace("heavy"), "w", "is not numeric (e.g. 'heavy')"),
        (content(["True", "False"] * 20), "w", "is not numeric (e.g. True)"),
        # The one empty weight is in a row without a target, which is dropped.
        (
            content(["True", "False"] * 20) + "99,,\n",
            "w",
            "is not numeric (e.g. True)",
        ),
        (replace("-1.5"), "w", "has 1 row with a negative weight (e.g. -1.5)"),
        (replace(""), "w", "has 1 row with a missing weight (an empty cell or NaN)"),
        (content(["nan"] * 3 + good[3:]), "w", "has 3 rows with a missing weight"),
        (replace("inf"), "w", "has 1 row with an infinite weight (e.g. inf)"),
        (content(["0", "0.0"] * 20), "w", "holds only zeros"),
    ]


@pytest.mark.parametrize("content, column, message", _weight_cases())
def test_distill_reports_bad_weight_columns_clearly(
    tmp_path, capsys, monkeypatch, content, column, message
):
    pytest.importorskip("pandas")
    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    path = tmp_path / "data.csv"
    path.write_text(content)
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    assert main([*arguments, "--sample-weight", column]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skhpmkd: error: ")
    assert message in err
    assert fitted == []


def test_a_part_of_the_split_without_weight_is_refused(tmp_path, capsys):
    pytest.importorskip("pandas")
    from sklearn.model_selection import train_test_split

    labels = np.array(["x", "y"] * 20)
    train, test = train_test_split(
        np.arange(40), test_size=0.25, random_state=0, stratify=labels
    )
    path = tmp_path / "data.csv"
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    for part, empty in (("test", test), ("training", train)):
        weights = np.ones(40)
        weights[empty] = 0
        rows = [f"{i},{w},{c}" for i, (w, c) in enumerate(zip(weights, labels))]
        path.write_text("a,w,label\n" + "\n".join(rows) + "\n")
        assert main([*arguments, "--sample-weight", "w"]) == 2
        message = (
            f"The {part} rows of the split (--test-size 0.25, --random-state 0) "
            "have total weight 0"
        )
        assert message in capsys.readouterr().err


def test_sample_weight_is_an_option_of_distill_only(capsys):
    args = build_parser().parse_args(["distill", "d.csv", "--target", "y"])
    assert args.sample_weight is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--sample-weight", "w"])
    assert "unrecognized arguments: --sample-weight" in capsys.readouterr().err


def test_an_infinite_feature_is_named_before_the_fit(tmp_path, capsys, monkeypatch):
    pytest.importorskip("pandas")
    from skhpmkd._cli import read_csv

    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    path = tmp_path / "data.csv"
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    # A missing value in 'a' is allowed; the infinite one in 'b' is not.
    rows = [
        f"{'' if i == 1 else i},{'inf' if i == 4 else i},{i % 2}" for i in range(40)
    ]
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.startswith("skhpmkd: error: ")
    assert (
        f"The feature column 'b' of {str(path)!r} has 1 infinite value (the first: "
        "inf in row 5 after the header); features must be finite numbers"
    ) in err
    assert "float32" not in err
    assert fitted == []
    # Without the infinite value, the missing one is read as NaN, as before.
    path.write_text(path.read_text().replace(",inf,", ",4,"))
    X, *_ = read_csv(str(path), "label")
    assert np.isnan(X[1, 0]) and np.isfinite(np.delete(X, 1, axis=0)).all()


def test_infinite_features_in_several_columns_are_counted(tmp_path, capsys):
    pytest.importorskip("pandas")
    # The first row has no target and is dropped, but still counts as row 1; a
    # number too large for a float64 is infinite, and a text column's 'inf' is
    # a category.
    rows = ["1e400,1,inf,"] + [
        f"{'-inf' if i in (5, 7) else i},{'1e400' if i == 2 else i},"
        f"{'inf' if i % 3 else 'red'},{i % 2}"
        for i in range(40)
    ]
    path = tmp_path / "data.csv"
    path.write_text("a,b,colour,label\n" + "\n".join(rows) + "\n")
    assert main(["distill", str(path), "--target", "label", *LIGHT]) == 2
    assert (
        f"The feature columns 'a' (2 values) and 'b' (1 value) of {str(path)!r} have "
        "3 infinite values (the first: inf in column 'b', row 4 after the header)"
    ) in capsys.readouterr().err


def _record_fits(monkeypatch):
    """Record the training rows HPMKDClassifier.fit is called with."""
    import skhpmkd._cli as cli

    fitted, fit = [], cli.HPMKDClassifier.fit

    def record(self, X, y, sample_weight=None):
        fitted.append(len(y))
        return fit(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(cli.HPMKDClassifier, "fit", record)
    return fitted


@pytest.mark.parametrize(
    "n_rows, n_classes, teacher",
    [(4, 2, "rf"), (5, 2, "rf"), (4, 2, "hgb"), (6, 3, "rf"), (6, 3, "xgboost")],
)
def test_too_few_training_rows_for_the_search_are_refused_before_the_fit(
    tmp_path, capsys, monkeypatch, n_rows, n_classes, teacher
):
    # As many training rows as classes: the search holds out one of every
    # class to score the students and has none to fit them on. The library
    # said to change its validation_fraction, and the CLI's fold check (for
    # the hgb teacher) to use --teacher rf, which cannot help.
    pytest.importorskip("pandas")
    if teacher == "xgboost":
        pytest.importorskip("xgboost")
    fitted = _record_fits(monkeypatch)
    path = tmp_path / "data.csv"
    rows = [f"{i},{i * 3 % 7},{i % n_classes}" for i in range(n_rows)]
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    assert main([*arguments, "--teacher", teacher, "--test-size", "0.5"]) == 2
    err = capsys.readouterr().err
    n_test = -(-n_rows // 2)
    assert (
        f"--test-size 0.5 splits {n_rows} rows into {n_test} test and "
        f"{n_rows - n_test} training rows, as many as the {n_classes} classes; the "
        "search holds out at least one training row of every class to score the "
        "students, which leaves none to fit them on: give more rows, or a smaller "
        "--test-size."
    ) in err
    assert "validation_fraction" not in err and "--teacher rf" not in err
    assert fitted == []
    # One more training row leaves one to fit the students on.
    path.write_text(path.read_text() + f"7,1,{n_rows % n_classes}\n" * 2)
    output = tmp_path / "student.joblib"
    assert main([*arguments, "--test-size", "0.5", "--output", str(output)]) == 0
    assert fitted == [n_rows + 2 - (n_rows + 3) // 2]


def _sparse_weights_csv(path, positive, n=40):
    """A two-class CSV whose weight column ``w`` is 1 on the rows ``positive``
    (0-based, the header not counted) and 0 elsewhere."""
    rows = [
        f"{i},{i * 3 % 7},{1.0 if i in positive else 0.0},{i % 2}" for i in range(n)
    ]
    path.write_text("a,b,w,label\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("teacher", ["hgb", "lightgbm"])
def test_a_teacher_fold_without_weight_is_refused_before_the_fit(
    tmp_path, capsys, monkeypatch, teacher
):
    # The weighted training rows all fall in the test part of one of the
    # teacher's 5 cross-fitting folds; the library's message said to pass
    # other folds (cv), which the CLI does not have.
    pytest.importorskip("pandas")
    if teacher == "lightgbm":
        pytest.importorskip("lightgbm")
    fitted = _record_fits(monkeypatch)
    path = tmp_path / "data.csv"
    _sparse_weights_csv(path, {0, 1, 2, 3})
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    arguments += ["--teacher", teacher, "--sample-weight", "w"]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "skhpmkd: error: Every one of the 24 training rows of cross-validation fold "
        "4 (of 5) has weight 0 in the column 'w', so the teacher, cross-fitted on 5 "
        "folds of the training rows for its soft targets, cannot be fitted on that "
        "fold; give more rows a positive weight, or another --random-state or "
        "--test-size."
    )
    assert "(cv)" not in err
    assert fitted == []


@pytest.mark.parametrize(
    "positive, message",
    [
        (
            {0, 1},
            "Every one of the 24 training rows the search fits the students on (it "
            "holds out the other 6 of the 30 to score them) has weight 0 in the "
            "column 'w', so it cannot fit them;",
        ),
        (
            {6, 7},
            "Every one of the 6 training rows the search holds out to score the "
            "students (it fits them on the other 24 of the 30) has weight 0 in the "
            "column 'w', so it cannot score them;",
        ),
    ],
)
def test_a_search_split_without_weight_names_the_options_of_the_cli(
    tmp_path, capsys, positive, message
):
    # The search's own split of the training rows, drawn with the seed, left
    # one part without weight; the library's message said to change its
    # validation_fraction, which the CLI does not have.
    pytest.importorskip("pandas")
    path = tmp_path / "data.csv"
    _sparse_weights_csv(path, positive)
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    assert main([*arguments, "--sample-weight", "w"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skhpmkd: error: {message}")
    assert err.rstrip().endswith(
        "give more rows a positive weight, or another --random-state or --test-size."
    )
    assert "validation_fraction" not in err


def test_only_the_search_split_refusal_is_reworded():
    import argparse

    from skhpmkd._cli import _search_split_message

    args = argparse.Namespace(sample_weight="w")
    library = (
        "Every one of the search's 6 held-out rows has sample_weight 0, so it "
        "cannot fit or score the students; give more rows a positive weight, or "
        "change validation_fraction or random_state."
    )
    assert "the other 24 of the 30" in _search_split_message(library, 30, args)
    for other in (
        "Every one of the 24 training rows of cross-validation fold 4 (of 5) has "
        "sample_weight 0, so the teacher cannot be fitted on it; give more rows a "
        "positive weight, or pass folds (cv) that mix them.",
        "validation_fraction=0.2 holds out 2 of the 2 training rows",
        "Input X contains NaN.",
        "Note: " + library,
    ):
        assert _search_split_message(other, 30, args) is None


@pytest.mark.parametrize(
    "students, boosted",
    [
        (None, "the boosted student xgboost of the default --students needs"),
        (
            "dt,lightgbm,xgboost",
            "the boosted students lightgbm and xgboost of --students need",
        ),
    ],
)
def test_too_few_fit_rows_for_a_boosted_student_name_the_options_of_the_cli(
    tmp_path, capsys, monkeypatch, students, boosted
):
    # Four training rows of three classes: the search holds out one of every
    # class to score the students and fits them on the one left, which a
    # boosted student cannot be fitted on. The library's message named its
    # validation_fraction, which the CLI does not have.
    pytest.importorskip("pandas")
    pytest.importorskip("xgboost")
    if students is not None:
        pytest.importorskip("lightgbm")
    fitted = _record_fits(monkeypatch)
    path = tmp_path / "data.csv"
    path.write_text(
        "a,b,label\n" + "".join(f"{i},{i * 3 % 7},{i % 3}\n" for i in range(8))
    )
    arguments = ["distill", str(path), "--target", "label", "--teacher", "rf"]
    arguments += ["--budget", "3", "--quiet", "--test-size", "0.5"]
    if students is not None:
        arguments += ["--students", students]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err == (
        "skhpmkd: error: --test-size 0.5 leaves 4 training rows; the search holds "
        "out 3 of them (at least one of each class) to score the students and "
        f"fits them on the other 1, fewer than the 3 classes, but {boosted} a row "
        "of every class among those. Give more rows, a smaller --test-size, or "
        "--students without xgboost and lightgbm: lr, dt, rf, hgb and mlp need "
        "no row of every class.\n"
    )
    assert "validation_fraction" not in err and "transfer" not in err
    assert fitted == [4]


@pytest.mark.parametrize(
    "bound, message",
    [
        (
            "1",
            "the bound of 1 node (--max-student-size 1): of the students scored on "
            "all the fit rows, the smallest has size 15.",
        ),
        (
            "0.001",
            "the bound of 5 nodes (--max-student-size 0.001): of the students "
            "scored on all the fit rows, the smallest has size 15.",
        ),
    ],
)
def test_a_size_bound_no_student_meets_names_the_option_of_the_cli(
    tmp_path, capsys, bound, message
):
    # Every student the search scored is larger than the bound; the library's
    # message named its max_student_size, which the CLI calls
    # --max-student-size.
    output = tmp_path / "student.joblib"
    arguments = ["demo", "--dataset", "wine", *LIGHT, "--output", str(output)]
    assert main([*arguments, "--max-student-size", bound]) == 2
    err = capsys.readouterr().err
    assert err == f"skhpmkd: error: No candidate student meets {message}\n"
    assert "max_student_size" not in err
    assert not output.exists()


def test_only_the_boosting_and_size_bound_refusals_are_reworded():
    import argparse

    from skhpmkd._cli import _boosting_rows_message, _size_bound_message

    args = argparse.Namespace(test_size=0.25, students=["xgboost"], max_student_size=40)
    boosting = (
        "The search fits the students on 2 of the 15 training rows "
        "(validation_fraction=0.2 holds out the other 13, at least one of each "
        "class) and 10 transfer rows, fewer than the 13 classes; the boosted "
        "students ['xgboost'] need a row of every class. Give more training rows, "
        "or students without boosting."
    )
    assert _boosting_rows_message(boosting, args).startswith(
        "--test-size 0.25 leaves 15 training rows; the search holds out 13 of them "
        "(at least one of each class) to score the students and fits them on the "
        "other 2 and on 10 rows the teacher labels near them, fewer than the 13 "
        "classes, but the boosted student xgboost of --students needs a row of "
        "every class among those."
    )
    refit = (
        "No candidate student meets max_student_size=40 nodes when refitted on all "
        "training rows: of the 3 refitted configurations, the smallest has size "
        "52. Loosen max_student_size."
    )
    assert _size_bound_message(refit, args) == (
        "No candidate student meets the bound of 40 nodes (--max-student-size 40) "
        "when refitted on all training rows: of the 3 refitted configurations, the "
        "smallest has size 52. Loosen --max-student-size."
    )
    for other in (
        # The CLI has no latency bound: a message naming one is not its own.
        "No candidate student meets max_student_size=40 nodes and max_latency=0.1 "
        "s per 1,000 rows: of the students scored on all the fit rows, the "
        "smallest has size 52; the fastest takes 0.2 s.",
        "No candidate student meets max_latency=0.1 s per 1,000 rows: of the "
        "students scored on all the fit rows, the fastest takes 0.2 s.",
        "max_student_size=0.5 is a share of the teacher's size, which cannot be "
        "measured: no size. Pass the bound as an int number of nodes instead.",
        "validation_fraction=0.2 holds out 2 of the 2 training rows",
        "Input X contains NaN.",
        "Note: " + boosting,
        "Note: " + refit,
        # Only the refit's message says to loosen the bound.
        refit.replace(" when refitted on all training rows", ""),
        refit.replace(" Loosen max_student_size.", ""),
    ):
        assert _boosting_rows_message(other, args) is None
        assert _size_bound_message(other, args) is None


def test_other_errors_of_the_fit_pass_through_unchanged(capsys, monkeypatch):
    import skhpmkd._cli as cli

    def refuse(self, X, y, sample_weight=None):
        raise ValueError("max_student_size: something else went wrong (boosted).")

    monkeypatch.setattr(cli.HPMKDClassifier, "fit", refuse)
    assert main(["demo", "--dataset", "wine", *LIGHT]) == 2
    assert capsys.readouterr().err == (
        "skhpmkd: error: max_student_size: something else went wrong (boosted).\n"
    )


def test_a_weight_too_large_for_a_float32_is_refused_before_the_fit(
    tmp_path, capsys, monkeypatch
):
    # XGBoost holds the weights as float32 and refused one above its largest
    # value in a C++ error; the CLI names the column, the value and the row.
    pytest.importorskip("pandas")
    from skhpmkd._cli import read_csv

    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    largest = float(np.finfo(np.float32).max)
    path = tmp_path / "data.csv"
    weights = ["1"] * 40
    weights[3], weights[9] = "1e39", repr(float(np.nextafter(largest, np.inf)))
    rows = [f"{i},{w},{i % 2}" for i, w in enumerate(weights)]
    # The first row has no target: it is dropped, but still counts as row 1.
    path.write_text("a,w,label\n" + "99,1e40,\n" + "\n".join(rows) + "\n")
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    assert main([*arguments, "--sample-weight", "w"]) == 2
    err = capsys.readouterr().err
    assert (
        f"skhpmkd: error: The weight column 'w' of {str(path)!r} has 2 rows with a "
        "weight above 3.4028234663852886e+38, the largest float32 (the first: "
        "1e+39 in row 5 after the header); XGBoost and LightGBM hold weights as "
        "float32, so every weight must be at most that: divide the column by a "
        "constant"
    ) in err
    assert fitted == []
    # The largest float32 itself is a weight.
    weights[3] = weights[9] = repr(largest)
    rows = [f"{i},{w},{i % 2}" for i, w in enumerate(weights)]
    path.write_text("a,w,label\n" + "\n".join(rows) + "\n")
    *_, sample_weight = read_csv(str(path), "label", "w")
    assert sample_weight.max() == largest


def test_an_output_that_is_not_a_regular_file_is_refused(tmp_path, capsys, monkeypatch):
    # A model cannot be saved to a device or a named pipe; as root, --output
    # /dev/null used to "save" the student there and write /dev/null.skops,
    # and a named pipe blocked the save until something read it.
    import stat

    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    devnull = os.devnull
    if os.path.exists(devnull) and stat.S_ISCHR(os.stat(devnull).st_mode):
        had_copy = os.path.exists(devnull + ".skops")
        assert main(["demo", *LIGHT, "--output", devnull]) == 2
        assert (
            f"--output {devnull!r} is a character device, not a file the student "
            "can be saved in; give the path of a regular file."
        ) in capsys.readouterr().err
        assert os.path.exists(devnull + ".skops") == had_copy
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    os.mkfifo(tmp_path / "pipe.joblib")
    assert main(["demo", *LIGHT, "--output", str(tmp_path / "pipe.joblib")]) == 2
    assert "pipe.joblib' is a named pipe, not a file" in capsys.readouterr().err
    if importlib.util.find_spec("skops") is not None:
        # So is the skops copy next to a joblib file.
        os.mkfifo(tmp_path / "model.skops")
        assert main(["demo", *LIGHT, "--output", str(tmp_path / "model.joblib")]) == 2
        assert "model.skops' is a named pipe, not a file" in capsys.readouterr().err
    assert fitted == []


def _odd_names_csv(path, names, n=40, text=False):
    """A two-class CSV with numeric feature columns ``names`` (and a text
    column ``kind`` with ``text``) and a target column ``label``."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, len(names)))
    labels = (X[:, 0] + X[:, -1] > 0).astype(int)
    header = ",".join('"' + name.replace('"', '""') + '"' for name in names)
    rows = [
        ",".join(f"{v:.4f}" for v in row) + (f",{'ab'[i % 2]}" if text else "")
        for i, row in enumerate(X)
    ]
    path.write_text(
        header
        + (",kind" if text else "")
        + ",label\n"
        + "\n".join(f"{row},{label}" for row, label in zip(rows, labels))
        + "\n"
    )


def _fewer_rounds(monkeypatch):
    """Make the CLI's teachers with 20 rounds or trees, not 300: faster."""
    import skhpmkd._cli as cli

    make = cli.make_teacher

    def make_teacher(name):
        teacher = make(name)
        rounds = "max_iter" if name == "hgb" else "n_estimators"
        return teacher.set_params(**{rounds: 20})

    monkeypatch.setattr(cli, "make_teacher", make_teacher)


@pytest.mark.parametrize(
    "teacher, message",
    [
        (
            "xgboost",
            "--teacher xgboost cannot be fitted on the feature column 'b[0]': "
            "XGBoost refuses a column name holding any of the characters < [ ]. "
            "Rename the column, or use --teacher hgb or --teacher rf.",
        ),
        (
            "lightgbm",
            "--teacher lightgbm cannot be fitted on the 2 feature columns 'x:1' and "
            "'b[0]': LightGBM refuses a column name holding any of the characters "
            '" , : [ ] { }. Rename the columns, or use --teacher hgb or --teacher '
            "rf.",
        ),
    ],
)
def test_a_booster_teacher_refuses_column_names_it_cannot_take_before_the_fit(
    tmp_path, capsys, monkeypatch, teacher, message
):
    # The CLI fits its teacher on a DataFrame of the CSV's columns: LightGBM
    # crashed with a traceback (a LightGBMError is no ValueError), and XGBoost's
    # message named neither the column nor the option.
    pytest.importorskip("pandas")
    pytest.importorskip(teacher)
    fitted = _record_fits(monkeypatch)
    path = tmp_path / "data.csv"
    _odd_names_csv(path, ["x:1", "b[0]", "c"])
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    output = tmp_path / "student.joblib"
    assert main([*arguments, "--teacher", teacher, "--output", str(output)]) == 2
    assert capsys.readouterr().err == f"skhpmkd: error: {message}\n"
    assert fitted == []
    assert not output.exists()


def test_many_column_names_a_booster_teacher_refuses_are_counted(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("pandas")
    pytest.importorskip("lightgbm")
    fitted = _record_fits(monkeypatch)
    path = tmp_path / "data.csv"
    _odd_names_csv(path, ["ok", *(f"a:{i}" for i in range(7)), "{b}"])
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    assert main([*arguments, "--teacher", "lightgbm"]) == 2
    assert (
        "--teacher lightgbm cannot be fitted on the 8 feature columns 'a:0', 'a:1', "
        "'a:2', 'a:3' and 4 more: LightGBM refuses"
    ) in capsys.readouterr().err
    assert fitted == []


@pytest.mark.parametrize("student", ["dt", "lightgbm"])
@pytest.mark.parametrize("teacher", ["hgb", "rf"])
def test_other_teachers_take_column_names_the_boosters_refuse(
    tmp_path, capsys, monkeypatch, recwarn, teacher, student
):
    pd = pytest.importorskip("pandas")
    if student == "lightgbm":
        pytest.importorskip("lightgbm")
    _fewer_rounds(monkeypatch)
    names = ["x:1", "b[0]", 'q"{z}', "c<d"]
    path, output = tmp_path / "data.csv", tmp_path / "student.joblib"
    _odd_names_csv(path, names)
    arguments = ["distill", str(path), "--target", "label", "--teacher", teacher]
    arguments += ["--students", student, "--budget", "2", "--quiet"]
    assert main([*arguments, "--output", str(output)]) == 0
    assert "Saved the student to" in capsys.readouterr().out
    rows = pd.read_csv(path).drop(columns="label")
    model = joblib.load(output)
    if student == "lightgbm":
        # A boosted student is fitted on a bare array for such names, and the
        # CLI scores it on one: sklearn warned of the test rows' names.
        assert not hasattr(model, "feature_names_in_")
        rows = rows.to_numpy()
    else:
        assert list(model.feature_names_in_) == names
    assert model.predict(rows).shape == (len(rows),)
    assert not [w for w in recwarn if "feature names" in str(w.message)]


@pytest.mark.parametrize("teacher", ["xgboost", "lightgbm"])
def test_a_booster_teacher_takes_such_names_beside_a_text_column(
    tmp_path, capsys, monkeypatch, teacher
):
    # With a text column, the teacher is fitted on the encoded array, which
    # has no column names: the CSV's names do not reach it.
    pytest.importorskip("pandas")
    pytest.importorskip(teacher)
    _fewer_rounds(monkeypatch)
    path, output = tmp_path / "data.csv", tmp_path / "student.joblib"
    _odd_names_csv(path, ["x:1", "b[0]"], text=True)
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    assert main([*arguments, "--teacher", teacher, "--output", str(output)]) == 0
    assert "Saved the student to" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["student.SKOPS", "student.Skops"])
def test_the_skops_extension_is_case_insensitive(tmp_path, capsys, monkeypatch, name):
    # --output model.SKOPS was saved with joblib, with a skops copy model.skops.
    sio = pytest.importorskip("skops.io")
    output = tmp_path / name
    assert main(["demo", "--dataset", "wine", *LIGHT, "--output", str(output)]) == 0
    assert f"Saved the student to {output}\n" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    student = sio.load(output, trusted=sio.get_untrusted_types(file=output))
    assert hasattr(student, "predict_proba")
    # It asks for skops, which must be installed.
    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    monkeypatch.setattr("skhpmkd._cli._has_skops", lambda: False)
    assert main(["demo", *LIGHT, "--output", str(tmp_path / "new.SKOPS")]) == 2
    assert "asks for the skops format, but skops is not installed" in (
        capsys.readouterr().err
    )
    assert fitted == []


def test_an_upper_case_joblib_output_gets_joblib_and_a_skops_copy(tmp_path, capsys):
    pytest.importorskip("skops.io")
    output = tmp_path / "student.JOBLIB"
    assert main(["demo", "--dataset", "wine", *LIGHT, "--output", str(output)]) == 0
    copy = tmp_path / "student.skops"
    assert f"Saved the student to {output} and {copy}\n" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "student.JOBLIB",
        "student.skops",
    ]
    assert hasattr(joblib.load(output), "predict_proba")


@pytest.mark.parametrize(
    "rare, test_size, message",
    [
        (
            "a",
            "0.9",
            "The training rows of the split (--test-size 0.9, --random-state 0) "
            "hold no row of the class 'a' (2 rows), so the models cannot learn it; "
            "give a smaller --test-size, or more rows of that class.",
        ),
        (
            "ad",
            "0.9",
            "The training rows of the split (--test-size 0.9, --random-state 0) "
            "hold no row of the 2 classes 'a' (2 rows) and 'd' (2 rows), so the "
            "models cannot learn them; give a smaller --test-size, or more rows of "
            "those classes.",
        ),
        (
            "ad",
            "0.1",
            "The test rows of the split (--test-size 0.1, --random-state 0) hold no "
            "row of the 2 classes 'a' (2 rows) and 'd' (2 rows), so the test "
            "metrics cannot score them; give a larger --test-size, or more rows of "
            "those classes.",
        ),
    ],
)
def test_a_class_missing_from_a_part_of_the_split_is_refused_before_the_fit(
    tmp_path, capsys, monkeypatch, rare, test_size, message
):
    # The stratified split rounds each class's share of the test rows, so the
    # two rows of a rare class fell wholly in one part. The CLI went on: the
    # test labels were coded with np.searchsorted on the training part's
    # classes, which scored the rows of a class missing there as another's.
    pytest.importorskip("pandas")
    fitted = _record_fits(monkeypatch)
    labels = [c for c in rare for _ in range(2)]
    labels += ["b", "c"] * ((60 - len(labels)) // 2)
    path = tmp_path / "data.csv"
    path.write_text(
        "x,label\n" + "".join(f"{i % 7},{c}\n" for i, c in enumerate(labels))
    )
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    output = tmp_path / "student.joblib"
    assert main([*arguments, "--test-size", test_size, "--output", str(output)]) == 2
    assert capsys.readouterr().err == f"skhpmkd: error: {message}\n"
    assert fitted == []
    assert not output.exists()


@pytest.mark.parametrize(
    "header, repeated",
    [
        ("a,label,b,label", "the column name 'label' (columns 2 and 4)"),
        # pandas renames the second 'label' 'label.2', as 'label.1' is taken.
        ("label,b,label,label.1", "the column name 'label' (columns 1 and 3)"),
        # A byte order mark, or blank lines before the header, are no part of it.
        ("\ufeffa,label,a,a", "the column name 'a' (columns 1, 3 and 4)"),
        (
            '\n\n"a",label,a,"label"',
            "the column names 'a' (columns 1 and 3) and 'label' (columns 2 and 4)",
        ),
    ],
)
def test_a_column_name_repeated_in_the_header_is_refused(
    tmp_path, capsys, monkeypatch, header, repeated
):
    # pandas read a repeated name as another column, renamed 'label.1', and
    # the CLI took it as a feature: a copy of the target leaked into them.
    pytest.importorskip("pandas")
    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    path = tmp_path / "data.csv"
    # Whichever column the target is, it holds two classes.
    rows = [f"{i % 2},{i % 2},{i * 3 % 7},{i % 2}" for i in range(40)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert main(["distill", str(path), "--target", "label", *LIGHT]) == 2
    assert capsys.readouterr().err == (
        f"skhpmkd: error: The header of {str(path)!r} repeats {repeated}; give "
        "every column its own name, or drop the repeated columns: each repeat "
        "would be read as another feature under a new name, and a copy of the "
        "target would leak it.\n"
    )
    assert fitted == []
    # Empty names, which pandas names by their position, are no repeats.
    path.write_text(",label,,b\n" + "\n".join(rows) + "\n")
    assert main(["distill", str(path), "--target", "label", *LIGHT]) == 0
    assert fitted == [1]


def test_integer_labels_beyond_2_53_stay_exact_after_an_empty_target_cell(tmp_path):
    # The empty cell made pandas read the labels as float64, which merged
    # 2**53 and 2**53 + 1 into one class; beyond int64 it read them as text,
    # and the empty cell as a class ''.
    pytest.importorskip("pandas")
    from skhpmkd._cli import CLIError, read_csv

    path = tmp_path / "data.csv"

    def write(labels, empty=True):
        rows = [f"{i},{labels[i % 3]}" for i in range(30)]
        path.write_text(
            "a,label\n" + "\n".join(rows) + ("\n9," if empty else "") + "\n"
        )
        return [labels[i % 3] for i in range(30)]

    for labels, dtype in [
        ([2**53, 2**53 + 1, -7], np.int64),
        # As pandas reads them without the empty cell.
        ([2**63, 2**63 + 1, 7], np.uint64),
    ]:
        for empty in (True, False):
            expected = write(labels, empty)
            _, y, _, _, n_dropped, _ = read_csv(str(path), "label")
            assert n_dropped == int(empty)
            assert y.dtype == dtype
            assert y.tolist() == expected
    # Labels written as floats are whole numbers as before, and int64.
    write(["1.0", "2", "3e1"])
    _, y, *_ = read_csv(str(path), "label")
    assert y.dtype == np.int64
    assert sorted(set(y.tolist())) == [1, 2, 30]
    write([2**64, 1, -1])
    with pytest.raises(CLIError) as error:
        read_csv(str(path), "label")
    assert str(error.value) == (
        f"The target column 'label' of {str(path)!r} holds integer labels from -1 "
        "to 18446744073709551616, which no 64-bit integer type holds; write them "
        "as text (e.g. 'id18446744073709551616'), or number the classes with "
        "smaller integers."
    )


def test_a_true_false_target_with_empty_cells_gives_bool_labels(tmp_path, capsys):
    # pandas read the labels as Python bools among NaN; once the rows of the
    # empty cells were dropped, sklearn refused an object array of bools with
    # "Unknown label type: unknown".
    pytest.importorskip("pandas")
    from skhpmkd._cli import read_csv

    path, output = tmp_path / "data.csv", tmp_path / "student.joblib"
    rows = [f"{i},{i * 3 % 7},{i % 3 == 0}" for i in range(40)]
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    X_full, y_full, *_ = read_csv(str(path), "label")
    assert y_full.dtype == bool
    gaps = np.arange(0, 40, 10)
    for i in gaps:
        rows[i] = rows[i].rsplit(",", 1)[0] + ","
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    X, y, _, _, n_dropped, _ = read_csv(str(path), "label")
    assert n_dropped == len(gaps)
    assert y.dtype == bool
    assert y.tolist() == np.delete(y_full, gaps).tolist()
    assert_allclose(X, np.delete(X_full, gaps, axis=0))
    arguments = ["distill", str(path), "--target", "label", "--teacher", "rf"]
    arguments += ["--students", "dt", "--budget", "1", "--quiet"]
    assert main([*arguments, "--output", str(output)]) == 0
    assert "dropped 4 rows with an empty 'label' cell" in capsys.readouterr().err
    assert joblib.load(output).classes_.tolist() == [False, True]


def test_a_feature_column_without_values_is_named_before_the_fit(
    tmp_path, capsys, monkeypatch
):
    # HistGradientBoostingClassifier, the default teacher, failed on such a
    # column with "window shape cannot be larger than input array shape".
    pytest.importorskip("pandas")
    fitted = []
    monkeypatch.setattr("skhpmkd._cli.run", lambda *args, **kwargs: fitted.append(1))
    path = tmp_path / "data.csv"
    arguments = ["distill", str(path), "--target", "label", *LIGHT]
    path.write_text("a,notes,label\n" + "".join(f"{i},,{i % 2}\n" for i in range(40)))
    assert main(arguments) == 2
    assert capsys.readouterr().err == (
        f"skhpmkd: error: The feature column 'notes' of {str(path)!r} holds only "
        "missing values (empty cells or NaN); drop it: a column without a value "
        "tells the models nothing.\n"
    )
    # NaN is missing too, and a value in a row without a target is dropped
    # with it, also in a text column.
    rows = [f"{i},,nan,,{i % 2}" for i in range(40)] + ["1,2,3,red,"]
    path.write_text("a,b,c,colour,label\n" + "\n".join(rows) + "\n")
    assert main(arguments) == 2
    assert capsys.readouterr().err == (
        f"skhpmkd: error: The 3 feature columns 'b', 'c' and 'colour' of "
        f"{str(path)!r} hold only missing values (empty cells or NaN) in the rows "
        "with a target; drop them: a column without a value tells the models "
        "nothing.\n"
    )
    assert fitted == []
