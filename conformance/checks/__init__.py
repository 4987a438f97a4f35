"""The contract as checks: small functions that raise :class:`ConformanceFailure`. No pytest here."""
from .failure import CHECKS, ConformanceFailure
from .inplace import check_inplace_call

__all__ = ["CHECKS", "ConformanceFailure", "check_inplace_call"]
