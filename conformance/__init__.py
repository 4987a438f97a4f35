"""torch-inplace-conformance: property-based checks of PyTorch's in-place mutation contract.

Importing the package does nothing but define names: no device is touched, no Hypothesis profile loaded.
"""
__version__ = "0.1.0"
