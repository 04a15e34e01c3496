"""Test-suite configuration: the long brian2cuda compile test starts first, so that on a
2-worker run (`pytest -n 2`) the other worker runs the rest of the suite alongside it
instead of waiting for it at the end."""


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("cuda") is None)  # stable sort
