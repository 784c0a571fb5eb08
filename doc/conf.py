"""Sphinx configuration for the skhpmkd documentation.

Build offline with ``python -m sphinx -W --keep-going -b html doc doc/_build/html``;
the gallery executes every ``examples/plot_*.py``.
"""

import os
import re
import sys

# The gallery runs inside this process. On a small shared machine, OpenMP
# pools the size of the machine (histogram gradient boosting, XGBoost,
# LightGBM) wait on each other and make examples many times slower; one
# thread each keeps every example well under its minute.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("agg")

sys.path.insert(0, os.path.abspath(".."))

import skhpmkd  # noqa: E402

project = "skhpmkd"
author = "The skhpmkd developers"
copyright = "2026, The skhpmkd developers"
release = skhpmkd.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.examples", "auto_examples/*.ipynb"]
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# No network during the build: cross-project links stay plain text.
intersphinx_mapping = {}

try:
    import pydata_sphinx_theme  # noqa: F401

    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
    }
except ImportError:
    html_theme = "alabaster"
html_title = f"skhpmkd {release}"
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "download_all_examples": False,
    "plot_gallery": "True",
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 0,
    "reset_modules": ("matplotlib", "seaborn"),
    "doc_module": (),
    "backreferences_dir": None,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}


def skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn generates.

    Their docstrings point into scikit-learn's own documentation, which an
    offline build cannot link to.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


SHAPE_ATTRIBUTE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=[,)])")


def quote_shape_attributes(app, what, name, obj, options, lines):
    """Quote attribute names in shapes, as in ``(n_features_in_,)``.

    Bare, reStructuredText reads a trailing underscore as a link to a target
    that does not exist.
    """
    for index, line in enumerate(lines):
        if "shape (" in line:
            lines[index] = SHAPE_ATTRIBUTE.sub(r"``\1``", line)


def setup(app):
    app.connect("autodoc-skip-member", skip_metadata_request_methods)
    app.connect("autodoc-process-docstring", quote_shape_attributes)
