"""Knowledge distillation of tabular classifiers, scikit-learn compatible."""

from ._distiller import TemperatureScheduledDistiller

__version__ = "0.1.0"

__all__ = [
    "TemperatureScheduledDistiller",
    "__version__",
]
