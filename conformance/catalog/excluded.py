"""In-place callables the kit does not check and that belong to no op family, each with its reason.

Keys are names as ``inplace-conformance ops`` spells them; ``aten::op_`` excludes every overload of an aten
op that no Python callable reaches. Family modules keep their own ``EXCLUDED`` next to their specs.
"""
from __future__ import annotations

PYTHON_CALLBACK = ("CPU-only Python callable: calls a Python function once per element (no aten kernel, "
                   "no device dispatch, no out-of-place twin to compare with)")
SPARSE_ONLY = "sparse-only: defined for sparse COO tensors and raises on the strided tensors the kit draws"

EXCLUDED: dict[str, str] = {
    "apply_": PYTHON_CALLBACK,
    "map_": PYTHON_CALLBACK,
    "map2_": PYTHON_CALLBACK,
    "share_memory_": ("moves the storage into shared memory for multiprocessing: a process-level storage "
                      "operation with no values to compare (a no-op on CUDA)"),
    "sparse_resize_": SPARSE_ONLY,
    "sparse_resize_and_clear_": SPARSE_ONLY,
    "resize_as_sparse_": SPARSE_ONLY,
    "torch.resize_as_sparse_": SPARSE_ONLY,
    "aten::copy_sparse_to_sparse_": SPARSE_ONLY + " (and has no public Python binding)",
    "aten::gelu_": ("no public Python binding: torch.nn.functional.gelu has no inplace form; reachable only "
                    "as torch.ops.aten.gelu_"),
    "aten::rrelu_with_noise_": ("no public Python binding: the kernel behind aten::rrelu_ (torch.rrelu_, "
                                "torch.nn.functional.rrelu with inplace=True), which the nn family checks"),
}
