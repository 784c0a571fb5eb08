"""
======================================
Deploying a student with joblib, skops
======================================

After distillation only the student is needed at predict time. This example
saves the fitted student (``student_``) and the whole distiller, loads them
back and checks that the predictions are identical, then compares the size
and the prediction time of the student with the teacher's.

* :mod:`pickle` and :mod:`joblib` are fast and handle every object, but
  loading a pickle can run arbitrary code: load only files you made yourself
  or fully trust.
* :mod:`skops.io` stores a description of the objects instead and refuses to
  build any type you did not explicitly trust. Use it for files that cross a
  trust boundary. :func:`skops.io.get_untrusted_types` lists the types a file
  needs; read the list before passing it to :func:`skops.io.load`.

See :doc:`/persistence` for the types skhpmkd objects need trusted.
"""

# %%
# Distil a forest into a small LightGBM student
# ---------------------------------------------
import shutil
import tempfile
import time
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException
from lightgbm import LGBMClassifier
from sklearn.datasets import load_digits
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.model_selection import train_test_split

from skhpmkd import TemperatureScheduledDistiller

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
distiller = TemperatureScheduledDistiller(
    ExtraTreesClassifier(n_estimators=500),
    LGBMClassifier(n_estimators=30, num_leaves=4, n_jobs=1, verbose=-1),
    temperature=2.0,
    alpha=0.8,
    random_state=0,
).fit(X_train, y_train)
student = distiller.student_
print(f"teacher accuracy: {distiller.teacher_.score(X_test, y_test):.3f}")
print(f"student accuracy: {student.score(X_test, y_test):.3f}")
print("student type:", type(student).__name__)

# %%
# A LightGBM student trained on the KD loss comes back wrapped in a
# ``MarginClassifier``, which adds back the constant log-prior margin the
# booster started from. It is a regular classifier that predicts the original
# labels.

# %%
# joblib (trusted files only)
# ---------------------------
folder = Path(tempfile.mkdtemp())
joblib.dump(student, folder / "student.joblib")
loaded = joblib.load(folder / "student.joblib")
assert np.array_equal(loaded.predict_proba(X_test), student.predict_proba(X_test))

# %%
# skops (files from elsewhere)
# ----------------------------
# Save, then inspect which types the file would build before trusting them.
# skops keeps a file from running code but does not check the model data in
# it: a tree reads its node arrays without bounds checks, and a booster (like
# this LightGBM one) is rebuilt by its own library from the file's data, so
# trust such types only for files whose source you trust (see
# :ref:`persistence`).
sio.dump(student, folder / "student.skops")
untrusted = sio.get_untrusted_types(file=folder / "student.skops")
print("types to review and trust:")
for name in untrusted:
    print("   ", name)

# %%
# Loading without trusting them fails; trusting the reviewed list works and
# gives identical predictions.
try:
    sio.load(folder / "student.skops")
except UntrustedTypesFoundException as error:
    print("refused:", error)
safe = sio.load(folder / "student.skops", trusted=untrusted)
assert np.array_equal(safe.predict_proba(X_test), student.predict_proba(X_test))

# %%
# The whole distiller round-trips too. It also holds the teacher, so it is
# much larger, and its list of types adds two: the distiller's own class and
# ``sklearn.tree._tree.Tree``, the trees of the extra-trees teacher. Loaded
# with its reviewed list, it gives the same student probabilities and the
# same teacher soft targets (``transform``).
sio.dump(distiller, folder / "distiller.skops")
distiller_types = sio.get_untrusted_types(file=folder / "distiller.skops")
print(sorted(set(distiller_types) - set(untrusted)))
safe_distiller = sio.load(folder / "distiller.skops", trusted=distiller_types)
assert np.array_equal(
    safe_distiller.predict_proba(X_test), distiller.predict_proba(X_test)
)
assert np.array_equal(safe_distiller.transform(X_test), distiller.transform(X_test))

# %%
# Size and prediction time: teacher against student
# -------------------------------------------------
joblib.dump(distiller.teacher_, folder / "teacher.joblib")
sizes = {
    "teacher": (folder / "teacher.joblib").stat().st_size / 1024,
    "student": (folder / "student.joblib").stat().st_size / 1024,
}


def predict_time(model, repeats=20):
    start = time.perf_counter()
    for _ in range(repeats):
        model.predict(X_test)
    return (time.perf_counter() - start) / repeats * 1000


times = {
    "teacher": predict_time(distiller.teacher_),
    "student": predict_time(student),
}
fig, (ax_size, ax_time) = plt.subplots(1, 2, figsize=(9, 2.8))
for ax, values, label in (
    (ax_size, sizes, "joblib file size (KiB)"),
    (ax_time, times, f"predict time for {len(X_test)} rows (ms)"),
):
    bars = ax.barh(list(values), list(values.values()), color=["C1", "C0"])
    ax.bar_label(bars, labels=[f"{v:,.1f}" for v in values.values()], padding=3)
    ax.set_xscale("log")
    ax.set_xlabel(label + ", log scale")
    ax.margins(x=0.3)
fig.tight_layout()
plt.show()

# %%
# The files were only for this example: remove them.
shutil.rmtree(folder)
