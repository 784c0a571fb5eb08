"""Persistent optimisation memory: plain JSON records that warm-start searches.

The file holds ``{"format": ..., "version": 1, "records": [...]}``; each record
is ``{"meta_features": {...}, "config": {...}, "score": float, "scoring": str,
"students": [str, ...], "bounds": {...}}``: the task, a configuration, its
score, the scoring that gave it, the students its search chose from (a
family's name, or a student's class name and a digest of its parameters) and
the search's ``max_student_size`` and ``max_latency``. A record without
``"scoring"`` was scored by accuracy; one without ``"students"`` counts as a
search of its own student only; one without ``"bounds"`` is used as a record
of a search without them, but counts as a search of its own student only
(its search may have had a bound that its other students broke). It is read
with :mod:`json` only (never unpickled, so a shared file cannot run code) and
rewritten atomically: a temporary file in the same directory, then
:func:`os.replace`, so a reader never sees half a file. Writers take turns
through an exclusive lock on ``<file>.lock`` (on POSIX systems), so fits
that save at the same time keep each other's records.
"""

import contextlib
import functools
import hashlib
import json
import math
import os
import secrets
import stat
import types
from numbers import Real

import joblib

from ._meta_features import meta_distance

FORMAT = "skhpmkd-optimisation-memory"
VERSION = 1
MAX_RECORDS = 5_000
CONFIG_KEYS = ("student", "size", "temperature", "alpha")
DEFAULT_SCORING = "accuracy"
# The bounds of a search that records do not name.
NO_BOUNDS = {"max_student_size": None, "max_latency": None}


def _is_number(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def _check_record(record, path):
    ok = (
        isinstance(record, dict)
        and isinstance(record.get("meta_features"), dict)
        and isinstance(record.get("config"), dict)
        and set(CONFIG_KEYS) <= set(record["config"])
        and isinstance(record["config"]["student"], str)
        and _is_number(record["config"]["temperature"])
        and _is_number(record["config"]["alpha"])
        and (record["config"]["size"] is None or _is_number(record["config"]["size"]))
        and isinstance(record.get("score"), Real)
        and isinstance(record.get("scoring", DEFAULT_SCORING), str)
        and isinstance(record.get("students", []), list)
        and all(isinstance(name, str) for name in record.get("students", []))
        and isinstance(record.get("bounds", NO_BOUNDS), dict)
        and set(record.get("bounds", NO_BOUNDS)) == set(NO_BOUNDS)
        and all(
            value is None or _is_number(value)
            for value in record.get("bounds", NO_BOUNDS).values()
        )
        and all(isinstance(v, Real) for v in record["meta_features"].values())
    )
    if not ok:
        raise ValueError(
            f"The optimisation memory {os.fspath(path)!r} holds a malformed record: "
            f"{record!r}."
        )
    return record


def load_records(path):
    """Read the records of a memory file; a missing file has none.

    Raises
    ------
    ValueError
        If the file is not a memory file written by skhpmkd.
    """
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as file:
            content = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"The optimisation memory {os.fspath(path)!r} is not valid JSON: {error}."
        ) from error
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ValueError(
            f"{os.fspath(path)!r} is not an skhpmkd optimisation memory file "
            f"(expected a JSON object with format {FORMAT!r})."
        )
    if content.get("version") != VERSION:
        raise ValueError(
            f"The optimisation memory {os.fspath(path)!r} has version "
            f"{content.get('version')!r}; this skhpmkd reads version {VERSION}."
        )
    records = content.get("records")
    if not isinstance(records, list):
        raise ValueError(
            f"The optimisation memory {os.fspath(path)!r} has no list of records."
        )
    return [_check_record(record, path) for record in records]


@contextlib.contextmanager
def _exclusive(path):
    """Hold an exclusive lock on ``<path>.lock``; no lock where fcntl is missing."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(f"{path}.lock", "a") as lock:
        # Whoever may write the memory must be able to take its lock; its
        # owner always may, even when the memory itself is read-only.
        # A lock made with no memory yet has a new file's mode already.
        mode = _file_mode(path)
        if mode is not None:
            mode |= stat.S_IRUSR | stat.S_IWUSR
            if stat.S_IMODE(os.fstat(lock.fileno()).st_mode) != mode:
                with contextlib.suppress(OSError):  # another user's lock, say
                    os.fchmod(lock.fileno(), mode)
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def nearest_existing_folder(path):
    """The folder of ``path``, or its nearest ancestor that exists."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:  # a root that does not exist (a missing drive)
            break
        folder = parent
    return folder


def _file_mode(path):
    """The mode of ``path``, or None when it does not exist."""
    if os.path.exists(path):
        return stat.S_IMODE(os.stat(path).st_mode)
    return None


def _new_temporary(directory):
    """Open a new file in ``directory`` with the mode any new file gets there.

    The system applies the umask (reading it would mean setting it, for the
    whole process) and the folder's default permissions.
    """
    while True:
        name = f".skhpmkd-memory-{secrets.token_hex(8)}.json"
        temporary = os.path.join(directory, name)
        with contextlib.suppress(FileExistsError):
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            return os.open(temporary, flags, 0o666), temporary


def save_records(path, new_records):
    """Append records to a memory file, atomically; keep the newest ``MAX_RECORDS``.

    A record the file holds already is not added again.

    Concurrent writers take turns (see the module docstring); the file keeps
    its permissions.

    Returns
    -------
    n_records : int
        Number of records the file holds afterwards.
    """
    new_records = [_check_record(record, path) for record in new_records]
    for record in new_records:
        if not math.isfinite(record["score"]):
            raise ValueError(
                f"A memory record needs a finite score; got {record['score']}."
            )
    # Through a symbolic link, write (and lock) the file it points to: the
    # atomic replace would otherwise put a plain file in place of the link.
    path = os.path.realpath(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    with _exclusive(path):
        return _append(path, new_records, directory)


def _record_key(record):
    return json.dumps(record, sort_keys=True)


def _append(path, new_records, directory):
    # Records with a NaN or infinite score (which JSON cannot hold, and which
    # no search uses) are not carried over.
    old = [r for r in load_records(path) if math.isfinite(r["score"])]
    # A refit of the same task gives the same records again: one copy says
    # all they say, and copies would push other tasks' records out.
    known = {_record_key(record) for record in old}
    for record in new_records:
        key = _record_key(record)
        if key not in known:
            known.add(key)
            old.append(record)
    records = old[-MAX_RECORDS:]
    handle, temporary = _new_temporary(directory)
    try:
        mode = _file_mode(path)
        if mode is not None:
            os.chmod(temporary, mode)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(
                {"format": FORMAT, "version": VERSION, "records": records},
                file,
                indent=1,
                allow_nan=False,
            )
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return len(records)


def scoring_name(scoring):
    """The name a search's ``scoring`` is recorded under.

    ``None`` is accuracy; a string is its own name; a scikit-learn scorer is
    named by its ``repr`` (the metric and its arguments); a
    :func:`functools.partial` by its function and arguments; any other
    callable by its module and qualified name. Where that name does not tell
    scorings apart, a digest follows it: of the code, constants, closure and
    defaults of a lambda or a local function (also as a scorer's metric, which
    is then named as a scoring is), and
    the :func:`joblib.hash` of the object behind a bound method or of an
    instance of a class with ``__call__``, whose parameters can make other
    scorings.
    """
    if scoring is None:
        return DEFAULT_SCORING
    if isinstance(scoring, str):
        return scoring
    return _callable_name(scoring, frozenset())


def _callable_name(value, seen):
    if id(value) in seen:  # a function that refers to itself
        return "<self>"
    seen = seen | {id(value)}
    if hasattr(value, "_score_func"):
        metric = value._score_func
        text = repr(value)
        if " at 0x" not in text and "..." not in text and not _is_anonymous(metric):
            return text
        # Its repr holds the metric's address or a shortened array (numpy's
        # "..."), or a name lambdas share.
        settings = [
            _argument_name(getattr(value, key, None), seen)
            for key in ("_kwargs", "_sign", "_response_method")
        ]
        return f"make_scorer({_callable_name(metric, seen)}, {', '.join(settings)})"
    if isinstance(value, functools.partial):
        arguments = [_argument_name(a, seen) for a in value.args] + [
            f"{key}={_argument_name(argument, seen)}"
            for key, argument in sorted(value.keywords.items())
        ]
        return f"partial({_callable_name(value.func, seen)}, {', '.join(arguments)})"
    qualname = getattr(value, "__qualname__", None)
    if qualname is None:  # an instance of a class with __call__
        kind = type(value)
        return _with_hash(f"{kind.__module__}.{kind.__qualname__}", value)
    name = f"{getattr(value, '__module__', '')}.{qualname}"
    if _is_anonymous(value):
        return f"{name}:{_function_digest(value, seen)}"
    owner = getattr(value, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        return _with_hash(name, owner)  # a bound method
    return name


def _is_anonymous(function):
    """Whether a function's name is shared: a lambda or a local function."""
    return "<" in getattr(function, "__qualname__", "") and hasattr(
        function, "__code__"
    )


def _with_hash(name, obj):
    try:
        return f"{name}:{joblib.hash(obj)}"
    except Exception:  # joblib.hash pickles; some objects refuse
        return name


def _function_digest(function, seen):
    """A digest of what a function computes: its code, constants, names, and
    the values it closes over and defaults to (line numbers left out)."""
    parts = [_code_parts(function.__code__)]
    parts += [
        _argument_name(cell.cell_contents, seen) for cell in function.__closure__ or ()
    ]
    parts += [_argument_name(value, seen) for value in function.__defaults__ or ()]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _code_parts(code):
    constants = [_constant_text(const) for const in code.co_consts]
    return [code.co_code, code.co_names, code.co_varnames, constants]


def _constant_text(const):
    """A constant's text, the same in every process (a frozenset's ``repr``
    follows string hashing, which changes between processes)."""
    if isinstance(const, types.CodeType):
        return _code_parts(const)
    if isinstance(const, frozenset):
        # Sorted by their text: the items can mix strings, numbers and tuples.
        return ["frozenset", sorted((_constant_text(item) for item in const), key=repr)]
    if isinstance(const, tuple):
        return [_constant_text(item) for item in const]
    return repr(const)


def _argument_name(value, seen):
    """A name of an argument or closed-over value, the same in every process.

    Plain values are named by ``repr``; callables as scorings are; anything
    else (an array, say, whose ``repr`` is shortened, or an object whose
    ``repr`` holds its address) by its type and :func:`joblib.hash`.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if callable(value):
        return _callable_name(value, seen)
    try:
        return f"{type(value).__name__}:{joblib.hash(value)}"
    except Exception:  # joblib.hash pickles; some objects refuse
        return repr(value)


def nearest_configs(
    records,
    meta_features,
    *,
    max_distance,
    n_configs,
    accept,
    scoring=DEFAULT_SCORING,
    bounds=NO_BOUNDS,
):
    """Best remembered configurations of the most similar earlier tasks.

    Records are ranked by meta-feature distance, then by score; configurations
    are deduplicated and filtered by ``accept`` (the current search space).
    Records scored otherwise than by ``scoring``, or searched under other
    ``bounds``, are ignored: their scores do not compare, and a search under
    a bound keeps no configuration that breaks it.

    Parameters
    ----------
    records : list of dict
        Records from :func:`load_records`.
    meta_features : dict
        Meta-features of the current task.
    max_distance : float
        Records of tasks farther than this are ignored.
    n_configs : int
        Number of configurations returned at most.
    accept : callable
        ``accept(config) -> config or None``: the configuration mapped into
        the current search space, or ``None`` when it has no place there.
    scoring : str, default="accuracy"
        Name of the current search's scoring (see :func:`scoring_name`).
    bounds : dict, default=NO_BOUNDS
        The current search's ``max_student_size`` and ``max_latency``, as
        given.

    Returns
    -------
    configs : list of dict
    """
    return [
        config
        for config, _ in _nearest(
            records, meta_features, max_distance, n_configs, accept, scoring, bounds
        )
    ]


def unsearched_students(
    records,
    meta_features,
    names,
    *,
    max_distance,
    n_configs,
    accept,
    scoring=DEFAULT_SCORING,
    bounds=NO_BOUNDS,
):
    """The students of ``names`` that the searches behind the configurations
    of :func:`nearest_configs` (same arguments) did not have.

    A warm start tries these too: the memory cannot tell how they would do.
    Only the searches a warm start starts from count: a student that won a
    farther search must not be taken as tried when its configuration is not
    among those the warm start tries.

    Returns
    -------
    names : list of str
        In the order of ``names``.
    """
    searched = set()
    for _, record in _nearest(
        records, meta_features, max_distance, n_configs, accept, scoring, bounds
    ):
        searched.update(_searched(record))
    return [name for name in names if name not in searched]


def _searched(record):
    """The students ``record``'s search had, as far as the record can tell.

    A record written before records named their bounds may come from a
    search under a bound, whose other students broke it: only its own
    student is known to have been searched.
    """
    if "bounds" not in record:
        return [record["config"]["student"]]
    return record.get("students", [record["config"]["student"]])


def _nearest(records, meta_features, max_distance, n_configs, accept, scoring, bounds):
    """(configuration, record) of :func:`nearest_configs`."""
    ranked = [
        (distance, -record["score"], index, record)
        for index, (distance, record) in enumerate(
            _similar(records, meta_features, max_distance, scoring, bounds)
        )
    ]
    ranked.sort(key=lambda item: item[:3])
    nearest = []
    for *_, record in ranked:
        mapped = accept(record["config"])
        if mapped is not None and mapped not in [config for config, _ in nearest]:
            nearest.append((mapped, record))
        if len(nearest) == n_configs:
            break
    return nearest


def _similar(records, meta_features, max_distance, scoring, bounds):
    """(distance, record) of the records of ``scoring`` and ``bounds`` within
    ``max_distance``."""
    similar = []
    for record in records:
        if record.get("scoring", DEFAULT_SCORING) != scoring:
            continue
        if record.get("bounds", NO_BOUNDS) != bounds:
            continue
        distance = meta_distance(meta_features, record["meta_features"])
        if distance <= max_distance and math.isfinite(record["score"]):
            similar.append((distance, record))
    return similar
