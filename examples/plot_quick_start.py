"""
=====================================
Quick start: distil inside a pipeline
=====================================

A :class:`~skhpmkd.TemperatureScheduledDistiller` is an ordinary scikit-learn
classifier, so it goes into a :class:`~sklearn.pipeline.Pipeline` and is
evaluated with :func:`~sklearn.model_selection.cross_val_score` like any
other. Here a random forest of 200 trees teaches a depth-4 decision tree. We
compare three models with the same 5-fold cross-validation:

* the small tree trained on the labels alone,
* the forest itself (the teacher),
* the same small tree distilled from the forest, with a transfer set three
  times the size of the training fold (rows interpolated between
  neighbouring training rows, labelled by the forest).

Inside each outer fold the distiller fits its own forest on the training
fold and takes the forest's out-of-bag probabilities as the teacher's
targets: the probabilities of a row average only the trees whose bootstrap
sample left that row out. So the student never learns from teacher
predictions on rows the teacher saw, and the forest is fitted once. A teacher
without out-of-bag estimates would be cross-fitted instead (see
:ref:`user_guide`).
"""

# %%
# Data and models
# ---------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import TemperatureScheduledDistiller

X, y = load_breast_cancer(return_X_y=True)
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

models = {
    "student alone": make_pipeline(
        StandardScaler(), DecisionTreeClassifier(max_depth=4, random_state=0)
    ),
    "teacher": make_pipeline(
        StandardScaler(), RandomForestClassifier(n_estimators=200, random_state=0)
    ),
    "distilled student": make_pipeline(
        StandardScaler(),
        TemperatureScheduledDistiller(
            RandomForestClassifier(n_estimators=200),
            DecisionTreeClassifier(max_depth=4),
            alpha=0.8,
            augment=3.0,
            random_state=0,
        ),
    ),
}

# %%
# Cross-validated accuracy
# ------------------------
scores = {
    name: cross_val_score(model, X, y, cv=cv, scoring="accuracy")
    for name, model in models.items()
}
for name, fold_scores in scores.items():
    print(f"{name:>18}: {fold_scores.mean():.3f} +/- {fold_scores.std():.3f}")

# %%
# The deployed model is the student only: a depth-4 tree, no forest at
# predict time. Fit the pipeline once on all rows to see what is shipped. A
# tree student comes back as a
# ``SoftTargetClassifier``: the tree was grown as a
# regression tree on the soft targets, which is the exact soft-label version
# of a classification tree (see :ref:`user_guide`).
pipeline = models["distilled student"].fit(X, y)
distiller = pipeline[-1]
print("student type:", type(distiller.student_).__name__)
print("student leaves:", distiller.student_.regressor_.get_n_leaves())
print("teacher leaves:", sum(t.get_n_leaves() for t in distiller.teacher_.estimators_))
print("train fidelity:", {k: round(v, 3) for k, v in distiller.fidelity_.items()})

# %%
# Plot the fold scores
# --------------------
means = [fold_scores.mean() for fold_scores in scores.values()]
stds = [fold_scores.std() for fold_scores in scores.values()]
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(np.arange(len(scores)), means, xerr=stds, color=["C7", "C1", "C0"])
ax.set_yticks(np.arange(len(scores)), list(scores))
ax.invert_yaxis()
ax.set_xlim(0.85, 1.0)
ax.set_xlabel("5-fold accuracy")
ax.set_title("Breast cancer: depth-4 tree with and without distillation")
fig.tight_layout()
plt.show()
