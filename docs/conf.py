"""Sphinx configuration of the le_brian documentation (``make -C docs html``).

No build step reaches the network: the inventories intersphinx reads for Brian2, NumPy,
Neo, Elephant, pynwb, Dask, Matplotlib and Python are written from the installed packages by
``_tools/make_inventories.py`` at the start of the build.
"""

import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_tools"))

import make_inventories  # noqa: E402

import le_brian  # noqa: E402

os.environ.setdefault("MPLBACKEND", "agg")


def _quiet_brian2_deprecations(gallery_conf, fname, when=None):
    """Brian2 2.10 passes an argument that pyparsing 3.3 deprecates (a DeprecationWarning
    raised inside brian2.parsing); not ours to fix, and it would appear in every example's
    output. Applied before each example (sphinx-gallery resets the filters)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="brian2")


project = "le_brian"
author = "the le_brian authors"
copyright = "2026, the le_brian authors"
release = le_brian.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README_MAP.md", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.codeobj.json", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# A broken cross-reference is an error (the Makefile builds with -W).
nitpicky = True
nitpick_ignore_regex = [
    # Fragments of free-form numpydoc type phrases ("array (n_samples, n_out)", "L floats
    # (Hz)", "sequence of Quantity"): text, not names. Dotted names and CamelCase names
    # stay checked.
    (r"py:(class|exc|obj)", r".*[\s(),/;=+].*"),
    (r"py:class", r"[a-z_\-]+\.?"),
    # the quantities package (Neo's units) publishes no inventory we can mirror offline
    (r"py:class", r"quantities\..*"),
    # "Quantity" as a bare type word (an alias napoleon applies to Parameters sections but
    # not to property docstrings): brian2.units.fundamentalunits.Quantity
    (r"py:class", r"Quantity"),
]

# ----- autodoc / autosummary / napoleon
autosummary_generate = True
autosummary_ignore_module_all = False
napoleon_preprocess_types = True
napoleon_type_aliases = {
    "Quantity": "~brian2.units.fundamentalunits.Quantity",
    "brian2.Quantity": "~brian2.units.fundamentalunits.Quantity",
    "ndarray": "~numpy.ndarray",
    "np.ndarray": "~numpy.ndarray",
    "array": "~numpy.ndarray",
    "Path": "~pathlib.Path",
    "path-like": "~os.PathLike",
    "path": "~os.PathLike",
    "Figure": "~matplotlib.figure.Figure",
    "Axes": "~matplotlib.axes.Axes",
    "matplotlib.axes.Axes": "~matplotlib.axes.Axes",
    "NeuronGroup": "~brian2.NeuronGroup",
    "Synapses": "~brian2.Synapses",
    "Equations": "~brian2.Equations",
    "brian2.Network": "~brian2.Network",
    "Subgroup": "~brian2.Subgroup",
    "SpikeMonitor": "~brian2.SpikeMonitor",
    "datetime": "~datetime.datetime",
    "RunResult": "~le_brian.engine.results.RunResult",
    "Dataset": "~le_brian.datasets.Dataset",
    "LENetwork": "~le_brian.networks.layered.LENetwork",
    "Microcircuit": "~le_brian.networks.microcircuit.Microcircuit",
}
autodoc_default_options = {"members": True, "undoc-members": True, "member-order": "bysource",
                           "show-inheritance": True}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_class_signature = "separated"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
python_display_short_literal_types = True
add_module_names = False
toc_object_entries_show_parents = "hide"



def _documented_modules():
    """The modules listed in api/index.rst (one line each in its autosummary blocks)."""
    text = (HERE / "api" / "index.rst").read_text()
    return {line.strip() for line in text.splitlines()
            if line.startswith("   le_brian.") and " " not in line.strip()}


API_MODULES = _documented_modules()


def documented_here(module, name):
    """Whether ``module``'s API page documents ``name`` in full: it is defined there, or its
    defining module has no page of its own (a re-export of a private module)."""
    import importlib
    obj = getattr(importlib.import_module(module), name)
    home = getattr(obj, "__module__", module)
    aliased = getattr(obj, "__name__", name) != name  # e.g. soft_relu = _soft_relu
    return home == module or home not in API_MODULES or aliased


def home_of(module, name):
    """The dotted path under which ``name`` (re-exported by ``module``) is documented."""
    import importlib
    obj = getattr(importlib.import_module(module), name)
    return f"{obj.__module__}.{getattr(obj, '__qualname__', name)}"


autosummary_context = {"documented_here": documented_here, "home_of": home_of}

# ----- MyST (docs/model.md and the guide pages are Markdown)
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 4
suppress_warnings = ["myst.header", "config.cache"]

# ----- intersphinx, from local inventories (see _tools/make_inventories.py)
_INVENTORIES = HERE / "_build" / "inventories"
_paths = make_inventories.write_all(_INVENTORIES)
intersphinx_mapping = {name: (make_inventories.TARGETS[name][0], str(path))
                       for name, path in _paths.items()}
intersphinx_timeout = 1

# ----- sphinx-gallery: examples/ at the repository root, executed at every build
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib", "seaborn", _quiet_brian2_deprecations),
    "reference_url": {"le_brian": None},
    "show_memory": False,
    "plot_gallery": "True",
}

# ----- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"le_brian {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "changelog/*": []}
html_last_updated_fmt = None
