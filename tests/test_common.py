"""scikit-learn's estimator checks over every public estimator."""

import inspect

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skhpmkd
from tests._instances import EXPECTED_FAILED_CHECKS, light_instance


def public_estimators():
    """Every estimator class that ``skhpmkd`` lists as public."""
    return [
        obj
        for name in skhpmkd.__all__
        if inspect.isclass(obj := getattr(skhpmkd, name))
        and issubclass(obj, BaseEstimator)
    ]


def distillers():
    """The public estimators that deploy a single ``student_``.

    Named, not found by ``hasattr``: a distiller that lost its ``student_``
    must fail the tests that use it, not skip them.
    """
    return [
        skhpmkd.HPMKDClassifier,
        skhpmkd.ProgressiveChainClassifier,
        skhpmkd.TemperatureScheduledDistiller,
    ]


@parametrize_with_checks(
    [light_instance(cls) for cls in public_estimators()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est), {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
