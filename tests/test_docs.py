"""The documentation: complete API reference, the required gallery, an offline build.

The build runs every gallery example and takes minutes, so it carries the
``docs`` marker (deselect with ``-m "not docs"``) and is skipped when Sphinx
is not installed. It runs the same command as a separate CI step would,
rerunning examples whose outputs an earlier build left in ``doc/``::

    python -m sphinx -W --keep-going -D sphinx_gallery_conf.run_stale_examples=True \
        -b html doc doc/_build/html
"""

import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import skhpmkd

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "doc"
EXAMPLES = ROOT / "examples"
REQUIRED_EXAMPLES = [
    "plot_quick_start.py",
    "plot_temperature_schedules.py",
    "plot_progressive_chain.py",
    "plot_multi_teacher.py",
    "plot_pyramid_digits.py",
    "plot_deployment.py",
]
MAX_EXAMPLE_SECONDS = 60
RUNNING_TIME = re.compile(
    r"Total running time of the script:\*\*\s*\((\d+) minutes ([\d.]+) seconds\)"
)

pytestmark = pytest.mark.skipif(
    not DOC.is_dir(), reason="the doc/ folder is not part of this installation"
)


def _python_blocks(path):
    """The ``.. code-block:: python`` blocks of an rst file, dedented."""
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(
        r"^( *)\.\. code-block:: python\n\n((?:\1 +\S.*\n|\n)+)",
        text,
        flags=re.MULTILINE,
    )
    return [textwrap.dedent(block) for _, block in blocks]


# Every Python snippet a reader copies from these pages, in reading order
# (persistence.rst uses the quick start's ``distiller``); the user guide's one
# snippet needs a dask cluster and is not run here.
SNIPPET_PAGES = [
    ROOT / "README.rst",
    DOC / "index.rst",
    DOC / "quick_start.rst",
    DOC / "persistence.rst",
]


def test_documented_snippets_run(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    pytest.importorskip("skops")
    monkeypatch.chdir(tmp_path)  # persistence.rst saves files
    namespace = {}
    counts = {}
    for page in SNIPPET_PAGES:
        blocks = _python_blocks(page)
        counts[page.name] = len(blocks)
        for block in blocks:
            exec(compile(block, str(page), "exec"), namespace)
    assert counts == {
        "README.rst": 1,
        "index.rst": 1,
        "quick_start.rst": 5,
        "persistence.rst": 2,
    }
    assert (tmp_path / "student.skops").exists()


def _public_objects(module_name):
    """Public functions and classes a module defines (or lists in ``__all__``)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module_name
        ]
    return [f"{module_name}.{name}" for name in names]


def _documented_names():
    """Fully qualified names listed in the autosummary tables of api.rst."""
    names = set()
    module = "skhpmkd"
    in_table = False
    for line in (DOC / "api.rst").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith(".. currentmodule::"):
            module = stripped.split("::")[1].strip()
        elif stripped.startswith(".. autosummary::"):
            in_table = True
        elif in_table and stripped and not line.startswith(" "):
            in_table = False
        elif in_table and stripped and not stripped.startswith(":"):
            names.add(f"{module}.{stripped}")
    return names


def test_api_reference_lists_every_public_name():
    public = {f"skhpmkd.{name}" for name in skhpmkd.__all__ if name != "__version__"}
    public |= set(_public_objects("skhpmkd.metrics"))
    public |= set(_public_objects("skhpmkd.plotting"))
    documented = _documented_names()
    assert public - documented == set(), "public names missing from doc/api.rst"
    assert documented - public == set(), "doc/api.rst lists names that are not public"


def test_gallery_has_the_required_examples():
    present = {path.name for path in EXAMPLES.glob("plot_*.py")}
    assert set(REQUIRED_EXAMPLES) <= present
    assert (EXAMPLES / "README.txt").is_file()


@pytest.mark.docs
def test_docs_build_offline_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("numpydoc")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        # Run every example even where doc/auto_examples holds the outputs of
        # an earlier build of the same script, which sphinx-gallery would reuse.
        "-D",
        "sphinx_gallery_conf.run_stale_examples=True",
        "-b",
        "html",
        "-d",
        str(tmp_path / "doctrees"),
        str(DOC),
        str(tmp_path / "html"),
    ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-10000:]
    assert (tmp_path / "html" / "index.html").is_file()

    times = {}
    for page in (DOC / "auto_examples").glob("plot_*.rst"):
        match = RUNNING_TIME.search(page.read_text(encoding="utf-8"))
        assert match, f"no running time in {page.name}"
        times[page.stem] = 60 * int(match[1]) + float(match[2])
    assert {f"{stem}.py" for stem in times} >= set(REQUIRED_EXAMPLES)
    too_slow = {stem: t for stem, t in times.items() if t > MAX_EXAMPLE_SECONDS}
    assert too_slow == {}, f"examples slower than {MAX_EXAMPLE_SECONDS} s"
