"""The one error type every check raises, with one message format.

A message names the check, the op, and ``self``'s dtype, shape, strides, storage offset and device, then
says what was expected and what was observed, then gives a snippet that reproduces the call.
"""
from __future__ import annotations


class ConformanceFailure(AssertionError):
    """An in-place call broke the contract. ``check`` names the broken clause (see ``CHECKS``)."""

    def __init__(self, check: str, subject: str, expected: str, observed: str, reproduction: str = ""):
        self.check, self.subject, self.expected, self.observed = check, subject, expected, observed
        self.reproduction = reproduction
        lines = [f"[{check}] {subject}", f"  expected: {expected}", f"  observed: {observed}"]
        if reproduction:
            lines += ["  reproduce with:", *("    " + line for line in reproduction.splitlines())]
        super().__init__("\n".join(lines))


CHECKS = {
    "identity": "the in-place call returns self itself",
    "storage": "self keeps its storage, storage offset, shape, strides, dtype and device",
    "outside-view": "no storage element outside self's view changes",
    "views-see-write": "another view of the same storage reads the values self reads",
    "twin-values": "self equals the out-of-place twin computed on untouched copies",
    "error-parity": "the in-place call raises exactly when the contract says it must",
    "unchanged-on-error": "a call that raises before writing leaves the whole storage unchanged",
    "overlap": "with an operand overlapping self, the call raises or equals the twin on copies",
    "version": "the in-place call bumps self's version counter",
    "twin-purity": "the out-of-place twin neither changes nor bumps its inputs",
}
