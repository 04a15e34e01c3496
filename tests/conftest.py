"""Test-suite configuration: the long brian2cuda compile test starts first, so that on a
2-worker run (`pytest -n 2`) the other worker runs the rest of the suite alongside it
instead of waiting for it at the end.

le_brian (and so Brian2, which installs a SIGINT handler at import) is imported here, in
the main thread of every process: pytest-xdist's controller imports the module of a
warning class a worker reports (le_brian's `SpikeSaturationWarning`) in a thread, where
Brian2's import would fail ("signal only works in main thread")."""

import le_brian  # noqa: F401  (see the docstring)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("cuda") is None)  # stable sort
