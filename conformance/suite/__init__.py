"""The conformance suite vendors run: parametrized op x dtype x device tests."""
