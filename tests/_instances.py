"""Light constructor parameters and expected check failures for every public estimator.

Each public estimator of ``skhpmkd.__all__`` is checked by
``tests/test_common.py`` with the parameters listed here (defaults when a
class is absent). Every expected failure carries its reason.
"""

from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import (
    AttentionMultiTeacherClassifier,
    HPMKDClassifier,
    ProgressiveChainClassifier,
    PyramidTeacherClassifier,
    TemperatureScheduledDistiller,
)

LIGHT_PARAMS = {
    HPMKDClassifier: dict(
        teachers=RandomForestClassifier(n_estimators=10, max_depth=4),
        students=["dt", "lr"],
        budget=3,
        cv=3,
    ),
    ProgressiveChainClassifier: dict(
        steps=[
            ("assistant", DecisionTreeClassifier(max_depth=4)),
            ("student", DecisionTreeClassifier(max_depth=2)),
        ],
        teacher=RandomForestClassifier(n_estimators=10, max_depth=4),
    ),
    TemperatureScheduledDistiller: dict(
        teacher=RandomForestClassifier(n_estimators=10, max_depth=4),
        student=DecisionTreeClassifier(max_depth=4),
        cv=3,
    ),
    AttentionMultiTeacherClassifier: dict(
        teachers=[
            ("tree", DecisionTreeClassifier(max_depth=3)),
            ("logistic", LogisticRegression()),
        ],
        cv=3,
    ),
    PyramidTeacherClassifier: dict(
        teacher=DecisionTreeClassifier(max_depth=3),
        specialist=DecisionTreeClassifier(max_depth=2),
        cv=3,
    ),
}

EXPECTED_FAILED_CHECKS = {
    TemperatureScheduledDistiller: {
        "check_sample_weight_equivalence_on_dense_data": (
            "The teacher's out-of-fold targets come from folds split by rows: "
            "a row of weight 2 sits in one fold, its two copies may sit in "
            "two. With a frozen teacher the student of weighted rows is the "
            "student of repeated rows (tests/test_sample_weight.py)."
        ),
    },
}


def light_instance(estimator_class):
    """An instance of ``estimator_class`` with its light test parameters."""
    return estimator_class(**LIGHT_PARAMS.get(estimator_class, {}))
