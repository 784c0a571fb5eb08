"""
========================================================
A pyramid of class-subset teachers on handwritten digits
========================================================

With ten classes one teacher may find some pairs hard to tell apart. A
:class:`~skhpmkd.PyramidTeacherClassifier` keeps one teacher on all classes
(level 0), groups the classes that teacher confuses most (from its
out-of-fold confusion matrix) and trains a specialist on the rows of each
group. The fused distribution is ``q(k) = q_top(S) q_S(k | S)``: the top
teacher picks the group, the specialist the class inside it.

Its ``fit_transform`` returns out-of-fold fused targets, so the pyramid is a
teacher for :class:`~skhpmkd.TemperatureScheduledDistiller`; an ensemble of
students is a soft-voting ensemble of such distillers.
"""

# %%
# Data, and a deliberately limited top teacher
# --------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.ensemble import VotingClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import PyramidTeacherClassifier, TemperatureScheduledDistiller

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.3, random_state=0, stratify=y
)
teacher = DecisionTreeClassifier(max_depth=6, min_samples_leaf=3, random_state=0)

# %%
# The pyramid
# -----------
# One level of specialists below the top teacher; each group of ``n`` classes
# is split into ``ceil(sqrt(n))`` groups, so the ten digits form four groups.
pyramid = PyramidTeacherClassifier(teacher, cv=3, random_state=0).fit(
    X_train, y_train
)
for group, specialist in zip(pyramid.groups_[0], pyramid.specialists_[0]):
    kind = "specialist" if specialist is not None else "single class"
    print(f"group {group.tolist()}: {kind}")

# %%
# The groups come from the top teacher's out-of-fold soft confusion matrix:
# row ``a``, column ``b`` is the mean probability it gives digit ``b`` on
# rows of digit ``a``.
fig, ax = plt.subplots(figsize=(5, 4.5))
image = ax.imshow(pyramid.confusion_, cmap="Blues")
fig.colorbar(image, ax=ax)
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
ax.set_title("out-of-fold soft confusion of the top teacher")

# %%
# Top teacher alone against the pyramid, on the test rows. The specialists
# raise accuracy, but not log-loss: a tree's leaves are near-certain, and a
# specialist's confident mistake inside the right group costs a lot.
top_alone = DecisionTreeClassifier(max_depth=6, min_samples_leaf=3, random_state=0)
top_alone.fit(X_train, y_train)
pd.DataFrame(
    {
        "test accuracy": [
            accuracy_score(y_test, top_alone.predict(X_test)),
            accuracy_score(y_test, pyramid.predict(X_test)),
        ],
        "test log-loss": [
            log_loss(y_test, top_alone.predict_proba(X_test)),
            log_loss(y_test, pyramid.predict_proba(X_test)),
        ],
    },
    index=["top teacher alone", "pyramid"],
).round(3)

# %%
# An ensemble of students
# -----------------------
# Three small trees of different depths each learn from the pyramid's
# out-of-fold fused targets; their soft vote is the deployed ensemble. Each
# distiller fits its own pyramid (a clone), which is cheap with tree teachers.
students = VotingClassifier(
    [
        (
            f"depth {depth}",
            TemperatureScheduledDistiller(
                PyramidTeacherClassifier(teacher, cv=3, random_state=0),
                DecisionTreeClassifier(max_depth=depth, random_state=0),
                alpha=0.7,
                cv=3,
                random_state=0,
            ),
        )
        for depth in (5, 6, 7)
    ],
    voting="soft",
).fit(X_train, y_train)

rows = [
    {
        "model": name,
        "test accuracy": accuracy_score(y_test, member.predict(X_test)),
        "train fidelity (top-1 agreement)": member.fidelity_["agreement"],
    }
    for name, member in students.named_estimators_.items()
]
rows.append(
    {
        "model": "soft vote of the students",
        "test accuracy": students.score(X_test, y_test),
        "train fidelity (top-1 agreement)": np.nan,
    }
)
pd.DataFrame(rows).round(3)

# %%
plt.show()
