"""Memory-layout arithmetic shared by the backends' planners (Python, per input signature).

C-order strides and contiguity, NumPy's coalescing of loop axes, and how BLAS (column-major)
sees a strided row-major matrix.  Strides here are in elements, not bytes.
"""

from __future__ import annotations

BLAS_N, BLAS_T = ord("N"), ord("T")
"""BLAS's ``trans`` arguments, as the bytes the generated code passes."""


def contiguous_strides(shape) -> tuple:
    """C-order element strides."""
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc)
        acc *= max(d, 1)
    return tuple(reversed(out))


def is_c_contiguous(shape, strides) -> bool:
    """True if ``strides`` lay ``shape`` out in C order (size-1 axes ignored)."""
    acc = 1
    for d, s in zip(reversed(shape), reversed(strides)):
        if d == 0:
            return True
        if d != 1 and s != acc:
            return False
        acc *= d
    return True


def coalesce(dims, strides: list) -> tuple[list, list]:
    """Merge adjacent loop axes that every array traverses as one (NumPy's iterator coalescing).

    Axis ``a`` merges into the next one when, for every array,
    ``stride[a] == stride[a+1] * dims[a+1]``.  The innermost group keeps the
    innermost axis' strides, so static facts about the inner axis (broadcast,
    reduced) still hold.  The result is padded with leading size-1 axes to the
    original rank.
    """
    rank = len(dims)
    if rank <= 1:
        return list(dims), [list(s) for s in strides]
    groups = []
    cur_d = dims[-1]
    cur_s = [s[-1] for s in strides]
    for ax in range(rank - 2, -1, -1):
        if all(s[ax] == cs * cur_d for s, cs in zip(strides, cur_s)):
            cur_d *= dims[ax]
        else:
            groups.append((cur_d, cur_s))
            cur_d, cur_s = dims[ax], [s[ax] for s in strides]
    groups.append((cur_d, cur_s))
    groups.reverse()
    pad = rank - len(groups)
    new_dims = [1] * pad + [g[0] for g in groups]
    new_strides = [[0] * pad + [g[1][k] for g in groups] for k in range(len(strides))]
    return new_dims, new_strides


def blas_layout(rows: int, cols: int, s0: int, s1: int):
    """How to hand a row-major ``rows x cols`` matrix to BLAS as its transpose (column-major ``cols x rows``).

    Returns (trans, ld): trans 'N' means the memory already is the column-major
    transpose (leading dimension ``ld``), 'T' means it is the column-major
    matrix itself; None means a copy is needed.
    """
    if s1 == 1 and s0 >= max(1, cols):
        return BLAS_N, s0
    if s0 == 1 and s1 >= max(1, rows):
        return BLAS_T, s1
    if rows <= 1 and s1 == 1:
        return BLAS_N, max(1, cols)
    if cols <= 1 and s0 == 1:
        return BLAS_T, max(1, rows)
    return None
