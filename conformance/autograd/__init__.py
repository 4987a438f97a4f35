"""Autograd conformance (DESIGN.md points 5 and 6): backward raises exactly when a saved tensor was mutated,
version counters, leaf and view rules, in-place gradients, parameters and optimizers."""
from __future__ import annotations

from .model import SavedModel, storage_key
from .program import Mutation, Program, execute, programs

__all__ = ["Mutation", "Program", "SavedModel", "execute", "programs", "storage_key"]
