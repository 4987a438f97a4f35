"""Pointwise in-place methods of ``torch.Tensor``: unary, binary, ternary, comparison, bitwise, logical and
special functions. One line per op; read it as a table."""
from __future__ import annotations

from strategies.values import Bounds

from .args import Choice, Operand, Scalar, alpha
from .spec import Deviation, OpSpec

COMPLEX_TO_REAL = Deviation(
    "the result of a complex input is real, so the in-place form on a complex tensor raises by design",
    lambda self_dtype, result_dtype: self_dtype.is_complex,
)
RESULT_DTYPE_MUST_MATCH = Deviation(
    "float_power_ computes in double precision and requires self to have the promoted dtype",
    lambda self_dtype, result_dtype: self_dtype != result_dtype,
)

UNARY = """
abs absolute acos acosh arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh bitwise_not ceil
conj_physical cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 fix floor frac i0 lgamma log log10
log1p log2 logical_not neg negative rad2deg reciprocal relu rsqrt sgn sigmoid sign sin sinc sinh sqrt square
tan tanh trunc
""".split()

# Binary ops whose operand may be a tensor or a Python scalar.
BINARY_TENSOR_OR_SCALAR = """
mul multiply true_divide floor_divide fmod remainder copysign xlogy bitwise_and bitwise_or bitwise_xor
bitwise_left_shift bitwise_right_shift eq ne lt le gt ge greater greater_equal less less_equal not_equal pow
float_power
""".split()

# Binary ops whose operand must be a tensor.
BINARY_TENSOR = """
atan2 arctan2 hypot nextafter ldexp heaviside gcd lcm igamma igammac logical_and logical_or logical_xor
""".split()

ROUNDING_MODE = Choice("rounding_mode", (None, "trunc", "floor"), keyword=True)
SMALL_INT = Bounds(-3, 3)

DEVIATIONS = {
    "abs": (COMPLEX_TO_REAL,),
    "absolute": (COMPLEX_TO_REAL,),
    "float_power": (RESULT_DTYPE_MUST_MATCH,),
}


def _unary(name: str) -> OpSpec:
    return OpSpec(f"{name}_", name, "pointwise.unary", deviations=DEVIATIONS.get(name, ()))


def _binary(name: str, tensor_only: bool = False, *extra) -> OpSpec:
    operand = Operand("other", scalar_kinds=() if tensor_only else ("bool", "int", "float", "complex"))
    return OpSpec(f"{name}_", name, "pointwise.binary", (operand, *extra), deviations=DEVIATIONS.get(name, ()))


SPECS: tuple[OpSpec, ...] = (
    *(_unary(n) for n in UNARY),
    OpSpec("round_", "round", "pointwise.unary", (Scalar("decimals", ("int",), SMALL_INT, keyword=True,
                                                         optional=True),)),
    OpSpec("logit_", "logit", "pointwise.unary", (Scalar("eps", ("float",), Bounds(0, 0.5), optional=True),)),
    OpSpec("nan_to_num_", "nan_to_num", "pointwise.unary", (
        Scalar("nan", ("float",), keyword=True, optional=True),
        Scalar("posinf", ("float",), keyword=True, optional=True),
        Scalar("neginf", ("float",), keyword=True, optional=True),
    )),
    OpSpec("polygamma_", "polygamma", "pointwise.unary", (Choice("n", (0, 1, 2, 3)),)),
    OpSpec("mvlgamma_", "mvlgamma", "pointwise.unary", (Choice("p", (1, 2, 3)),), domain=Bounds(1.01, 50),
           notes="mvlgamma(x, p) is defined for x > (p - 1) / 2; self is drawn above 1 for p <= 3"),
    *(_binary(n) for n in BINARY_TENSOR_OR_SCALAR),
    *(_binary(n, True) for n in BINARY_TENSOR),
    _binary("add", False, alpha(("bool", "int", "float", "complex"))),
    _binary("sub", False, alpha(("int", "float", "complex"))),
    _binary("subtract", False, alpha(("int", "float", "complex"))),
    _binary("div", False, ROUNDING_MODE),
    _binary("divide", False, ROUNDING_MODE),
    OpSpec("addcmul_", "addcmul", "pointwise.ternary", (
        Operand("tensor1", scalar_kinds=()), Operand("tensor2", scalar_kinds=()),
        Scalar("value", ("int", "float", "complex"), Bounds(-4, 4), keyword=True, optional=True))),
    OpSpec("addcdiv_", "addcdiv", "pointwise.ternary", (
        Operand("tensor1", scalar_kinds=()), Operand("tensor2", scalar_kinds=()),
        Scalar("value", ("int", "float", "complex"), Bounds(-4, 4), keyword=True, optional=True))),
    OpSpec("lerp_", "lerp", "pointwise.ternary", (
        Operand("end", scalar_kinds=()), Operand("weight", scalar_kinds=("float",)))),
    *(OpSpec(f"{n}_", n, "pointwise.ternary", (
        Operand("min", scalar_kinds=("int", "float"), keyword=True, optional=True),
        Operand("max", scalar_kinds=("int", "float"), keyword=True, optional=True))) for n in ("clamp", "clip")),
    OpSpec("clamp_min_", "clamp_min", "pointwise.binary", (Operand("min", scalar_kinds=("int", "float")),)),
    OpSpec("clamp_max_", "clamp_max", "pointwise.binary", (Operand("max", scalar_kinds=("int", "float")),)),
)
