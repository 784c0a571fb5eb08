"""
=====================================================
Many teachers, one student: vanilla, CAMKD, attention
=====================================================

Three deliberately different teachers (a shallow tree, a logistic regression
and a boosted model) are fused by
:class:`~skhpmkd.AttentionMultiTeacherClassifier` in three ways:

* ``"uniform"``: the plain average, vanilla multi-teacher distillation;
* ``"camkd"``: on labelled rows, ``w_i = (1 - softmax_i(CE_i)) / (M - 1)``
  (teachers that fit the row's label better weigh more); at predict time,
  without labels, each teacher's mean CAMKD weight;
* ``"attention"``: ``softmax_i(a . f_i(x))`` over label-free features
  (confidence, agreement with the consensus, global out-of-fold performance,
  diversity), with ``a`` learned on out-of-fold predictions.

Each fused ensemble then teaches the same small decision tree through
:class:`~skhpmkd.TemperatureScheduledDistiller`, and the fidelity plots of
:mod:`skhpmkd.plotting` show what the student learned from whom.
"""

# %%
# A four-class task and three different teachers
# ----------------------------------------------
# The teachers are fitted once: ``memory`` caches their out-of-fold
# probabilities, so the other weightings reuse them.
import shutil
from tempfile import mkdtemp

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import AttentionMultiTeacherClassifier, TemperatureScheduledDistiller
from skhpmkd.metrics import fidelity_report
from skhpmkd.plotting import (
    PairwiseDiversityDisplay,
    TeacherFidelityDisplay,
    TeacherWeightsDisplay,
)

X, y = make_classification(
    n_samples=1000,
    n_features=12,
    n_informative=6,
    n_classes=4,
    n_clusters_per_class=2,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y
)
teachers = [
    ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ("logistic", make_pipeline(StandardScaler(), LogisticRegression())),
    ("boosting", HistGradientBoostingClassifier(max_iter=50, random_state=0)),
]
memory = mkdtemp()

# %%
# The fused teachers
# ------------------
# Test log-loss of each single teacher and of each fusion rule.
ensembles = {
    weighting: AttentionMultiTeacherClassifier(
        teachers, weighting=weighting, cv=3, memory=memory, random_state=0
    ).fit(X_train, y_train)
    for weighting in ["uniform", "camkd", "attention"]
}
rows = [
    {"model": name, "test log-loss": log_loss(y_test, teacher.predict_proba(X_test))}
    for name, teacher in ensembles["uniform"].named_teachers_.items()
]
rows += [
    {"model": weighting, "test log-loss": log_loss(y_test, model.predict_proba(X_test))}
    for weighting, model in ensembles.items()
]
pd.DataFrame(rows).round(3)

# %%
# The learned attention vector and the mean weight of each teacher:
attention = ensembles["attention"]
print(dict(zip(attention.attention_features_, attention.attention_.round(2).tolist())))
pd.DataFrame(
    {w: model.teacher_weights_ for w, model in ensembles.items()},
    index=attention.teacher_names_,
).round(3)

# %%
# Where the weights go
# --------------------
# Mean weights on the training rows for each rule, and the per-sample spread
# of the label-free attention weights on the test rows.
fig, axes = plt.subplots(1, 4, figsize=(16, 3.5), sharey=True)
for ax, (weighting, model) in zip(axes, ensembles.items()):
    TeacherWeightsDisplay.from_estimator(model, ax=ax, title=weighting)
TeacherWeightsDisplay.from_estimator(
    attention, X_test, ax=axes[3], title="attention, per test row"
)
fig.tight_layout()

# %%
# One student per fusion rule
# ---------------------------
# The same depth-5 tree learns from each fused ensemble's out-of-fold soft
# targets.
students = {
    weighting: TemperatureScheduledDistiller(
        model,
        DecisionTreeClassifier(max_depth=5, random_state=0),
        alpha=0.7,
        cv=3,
        random_state=0,
    ).fit(X_train, y_train)
    for weighting, model in ensembles.items()
}
hard_label_tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(
    X_train, y_train
)
pd.DataFrame(
    [
        {
            "student of": "labels only",
            "test accuracy": hard_label_tree.score(X_test, y_test),
        }
    ]
    + [
        {
            "student of": weighting,
            "test accuracy": accuracy_score(y_test, student.predict(X_test)),
        }
        for weighting, student in students.items()
    ]
).round(3)

# %%
# Fidelity of the students
# ------------------------
# ``KL(T_i || S)`` to each teacher (bars) and ``KL(centroid || S)`` to the
# teachers' mean (dashed line), on the test rows.
fig, axes = plt.subplots(1, 3, figsize=(14, 3.5), sharey=True)
for ax, (weighting, student) in zip(axes, students.items()):
    TeacherFidelityDisplay.from_estimator(student, X_test, ax=ax, title=weighting)
fig.tight_layout()

# %%
# The same numbers as a table, from :func:`skhpmkd.metrics.fidelity_report`:
report = fidelity_report(
    attention.teacher_proba(X_test),
    students["attention"].predict_proba(X_test),
    teacher_names=attention.teacher_names_,
)
print(f"centroid fidelity: {report['centroid_fidelity']:.3f}")
pd.DataFrame(report["teachers"]).round(3)

# %%
# How different the teachers are
# ------------------------------
# ``KL(T_i || T_j)`` on the test rows: the diversity that makes fusing worth
# it. The matrix is not symmetric.
PairwiseDiversityDisplay.from_estimator(attention, X_test, title="pairwise KL")
plt.show()

# %%
# The cache was only for this example: remove it.
shutil.rmtree(memory)
