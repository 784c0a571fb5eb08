"""Column names for models that were fitted on a DataFrame."""

import numpy as np
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
    validate_data,
)


def with_feature_names(X, feature_names):
    """Return ``X`` as a DataFrame with ``feature_names`` as columns.

    ``X`` is returned unchanged when there are no names to give or it already
    has columns. pandas is imported only here: names exist only when the user
    fitted on a DataFrame, so pandas is installed then.
    """
    if feature_names is None or hasattr(X, "columns"):
        return X
    import pandas as pd

    return pd.DataFrame(X, columns=feature_names)


def declared_codes(X):
    """Mask of the columns a DataFrame's dtypes declare as codes, or ``None``.

    A ``category`` or boolean column holds codes whatever its values, which
    the transfer sets keep as codes (see :func:`skhpmkd._augment.interpolate`)
    even when they are too many to look like codes.
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        return None
    import pandas as pd

    return np.array(
        [
            isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype)
            for dtype in dtypes
        ],
        dtype=bool,
    )


def same_columns(names, other_names):
    """Whether two lists of column names agree; ``None`` (no names) agrees with any."""
    if names is None or other_names is None:
        return True
    return list(names) == list(other_names)


def take_rows(X, rows):
    """Rows of an array or, by position, of a DataFrame."""
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def validate_rows(estimator, X, y="no_validation", *, reset, ensure_all_finite):
    """``validate_data`` that lets a DataFrame through as it is.

    For ensembles of user models (fused teachers, a pyramid): a DataFrame
    keeps its columns' dtypes (categories, strings) for the teachers, which
    check their own input, as in :class:`~sklearn.ensemble.VotingClassifier`;
    its width and column names are still checked and recorded. Anything else
    is validated as a numeric array.
    """
    frame = hasattr(X, "columns") and hasattr(X, "iloc")
    kwargs = (
        {"skip_check_array": True}
        if frame
        else {"ensure_all_finite": ensure_all_finite}
    )
    if isinstance(y, str) and y == "no_validation":
        X = validate_data(estimator, X, reset=reset, **kwargs)
        if frame:
            _check_frame_shape(estimator, X)
        return X
    X, y = validate_data(estimator, X, y, reset=reset, **kwargs)
    if frame:
        _check_frame_shape(estimator, X)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
    return X, y


def _check_frame_shape(estimator, X):
    """The error ``check_array`` gives an array without rows or columns."""
    for size, what in ((X.shape[0], "sample"), (X.shape[1], "feature")):
        if size < 1:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum "
                f"of 1 is required by {type(estimator).__name__}."
            )
