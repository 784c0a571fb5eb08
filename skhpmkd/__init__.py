"""Knowledge distillation of tabular classifiers, scikit-learn compatible."""

from ._chain import ProgressiveChainClassifier
from ._distiller import TemperatureScheduledDistiller
from ._hpmkd import HPMKDClassifier
from ._multi_teacher import AttentionMultiTeacherClassifier
from ._pyramid import PyramidTeacherClassifier
from ._version import __version__

__all__ = [
    "AttentionMultiTeacherClassifier",
    "HPMKDClassifier",
    "ProgressiveChainClassifier",
    "PyramidTeacherClassifier",
    "TemperatureScheduledDistiller",
    "__version__",
]
