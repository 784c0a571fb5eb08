"""Column names for models that were fitted on a DataFrame."""


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


def same_columns(names, other_names):
    """Whether two lists of column names agree; ``None`` (no names) agrees with any."""
    if names is None or other_names is None:
        return True
    return list(names) == list(other_names)


def take_rows(X, rows):
    """Rows of an array or, by position, of a DataFrame."""
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]
