"""Temperature schedules over boosting rounds."""

import numpy as np

SCHEDULES = ("constant", "linear", "cosine", "adaptive")


def temperature_schedule(schedule, temperature, final_temperature, n_rounds):
    """Temperature of each round for the fixed schedules.

    Parameters
    ----------
    schedule : {"constant", "linear", "cosine"}
        Shape of the anneal from ``temperature`` to ``final_temperature``.
    temperature : float
        Temperature of the first round.
    final_temperature : float
        Temperature of the last round (ignored by ``"constant"``).
    n_rounds : int
        Number of boosting rounds.

    Returns
    -------
    temperatures : ndarray of shape (n_rounds,)
    """
    n_rounds = max(int(n_rounds), 1)
    if schedule == "constant" or n_rounds == 1:
        return np.full(n_rounds, float(temperature))
    progress = np.arange(n_rounds) / (n_rounds - 1)
    if schedule == "linear":
        weight = 1.0 - progress
    elif schedule == "cosine":
        weight = 0.5 * (1.0 + np.cos(np.pi * progress))
    else:
        raise ValueError(f"Unknown fixed schedule {schedule!r}.")
    return final_temperature + (temperature - final_temperature) * weight


class AdaptiveTemperature:
    """Temperature that follows the student's remaining distance to the teacher.

    Each round, ``T = final + (start - final) * min(1, KL_r / KL_0)`` where
    ``KL_r`` is the mean ``KL(teacher || student)`` on the training rows before
    round ``r``. The temperature starts high, anneals toward
    ``final_temperature`` while the student closes the gap and rises again if
    the gap widens.

    Parameters
    ----------
    temperature : float
        Temperature of the first round.
    final_temperature : float
        Temperature reached when the student matches the teacher.
    """

    def __init__(self, temperature, final_temperature):
        self.temperature = temperature
        self.final_temperature = final_temperature
        self.initial_kl_ = None

    def next(self, kl):
        """Return the temperature for a round whose starting KL is ``kl``."""
        if self.initial_kl_ is None:
            self.initial_kl_ = max(kl, np.finfo(float).tiny)
        ratio = min(1.0, kl / self.initial_kl_)
        start, final = self.temperature, self.final_temperature
        return float(final + (start - final) * ratio)


def make_schedule(schedule, temperature, final_temperature, n_rounds):
    """Return the per-round temperatures or an :class:`AdaptiveTemperature`."""
    if schedule == "adaptive":
        return AdaptiveTemperature(temperature, final_temperature)
    return temperature_schedule(schedule, temperature, final_temperature, n_rounds)
