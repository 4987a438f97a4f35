"""Load the kit's pytest plugin when running from a checkout without installing it."""
pytest_plugins = ["conformance.plugin"]
