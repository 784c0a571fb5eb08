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
    HPMKDClassifier: {
        "check_sample_weight_equivalence_on_dense_data": (
            "The check's cv groups keep a row's copies in one fold of the "
            "teacher, but the search draws more by rows: its held-out rows, "
            "its nested row subsets and the rows the transfer set starts "
            "from. A row of weight 2 falls on one side of each, its two "
            "copies may fall on both (the check fails with a logistic "
            "teacher and no transfer set too). With a frozen teacher and no "
            "transfer set the refitted student is the weighted distiller's "
            "(tests/test_sample_weight_hpmkd.py)."
        ),
    },
    ProgressiveChainClassifier: {
        "check_sample_weight_equivalence_on_dense_data": (
            "Its light teacher is a random forest, whose targets are out of "
            "bag: scikit-learn's forests draw their bootstrap samples "
            "differently once given weights. With a cross-fitted logistic "
            "teacher the check passes (its cv groups keep a row's copies "
            "together; tests/test_sample_weight_chain.py)."
        ),
    },
    TemperatureScheduledDistiller: {
        "check_sample_weight_equivalence_on_dense_data": (
            "Its light teacher is a random forest, whose targets are out of "
            "bag: scikit-learn's forests draw their bootstrap samples "
            "differently once given weights. With a cross-fitted teacher the "
            "check passes (its cv groups keep a row's copies together), and "
            "with a frozen one the student of weighted rows is the student of "
            "repeated rows (tests/test_sample_weight.py)."
        ),
    },
}


def light_instance(estimator_class):
    """An instance of ``estimator_class`` with its light test parameters."""
    return estimator_class(**LIGHT_PARAMS.get(estimator_class, {}))
