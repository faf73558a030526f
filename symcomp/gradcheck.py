"""``verify_grad``: check symbolic gradients against central finite differences.

Method (Theano's ``verify_grad``): a non-scalar output is reduced to a scalar
by a fixed random projection, ``cost = sum(out * proj)``; the compiled
symbolic gradient of ``cost`` is compared with the central difference
``(cost(x + eps e_i) - cost(x - eps e_i)) / (2 eps)`` for every element
``i`` of every input, whose truncation error is O(eps^2) (Nocedal & Wright,
*Numerical Optimization*, 2nd ed., sec. 8.1).
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np


class GradientError(AssertionError):
    """The symbolic gradient disagrees with finite differences.

    Attributes:
        arg: index of the input whose gradient is wrong.
        abs_err, rel_err: the largest absolute and relative errors seen.
        analytic, numeric: the two gradients of that input.
    """

    def __init__(self, arg, abs_err, rel_err, analytic, numeric, abs_tol, rel_tol):
        self.arg, self.abs_err, self.rel_err = arg, abs_err, rel_err
        self.analytic, self.numeric = analytic, numeric
        super().__init__(
            f"gradient of input {arg} disagrees with finite differences: max abs error {abs_err:.3g} "
            f"(tol {abs_tol:g}), max rel error {rel_err:.3g} (tol {rel_tol:g})\n"
            f"symbolic: {np.array2string(np.asarray(analytic).ravel()[:8], precision=6)}...\n"
            f"numeric:  {np.array2string(np.asarray(numeric).ravel()[:8], precision=6)}...")


def _defaults(dtype) -> tuple[float, float, float]:
    if np.dtype(dtype) == np.float32:
        return 1e-2, 1e-2, 1e-2
    return 1e-6, 1e-5, 1e-5


def verify_grad(fn: Callable, pt: Sequence, n_tests: int = 2, rng: Optional[np.random.Generator] = None,
                eps: Optional[float] = None, abs_tol: Optional[float] = None, rel_tol: Optional[float] = None,
                mode: Optional[str] = None) -> None:
    """Check ``grad`` of ``fn`` at the point ``pt``.

    Args:
        fn: takes one symbolic variable per entry of ``pt`` and returns a symbolic float value.
        pt: the point: a list of float arrays (or scalars).
        n_tests: how many random projections to try.
        rng: random generator for the projections (default: seeded, reproducible).
        eps: finite-difference step (default 1e-6 for float64, 1e-2 for float32).
        abs_tol, rel_tol: an element passes if either error is within its tolerance.
        mode: compilation mode of the functions compared.

    Raises:
        GradientError: on the first input whose gradient disagrees.
        TypeError: if ``pt`` holds non-float values.
    """
    import symcomp.tensor as T
    from symcomp.compile.function import function

    rng = rng or np.random.default_rng(42)
    pt = [np.array(p, dtype=np.asarray(p).dtype if np.asarray(p).dtype.kind == "f" else np.float64) for p in pt]
    d_eps, d_abs, d_rel = _defaults(pt[0].dtype if pt else np.float64)
    eps, abs_tol, rel_tol = eps or d_eps, abs_tol or d_abs, rel_tol or d_rel
    inputs = [T.tensor(p.dtype, shape=(None,) * p.ndim, name=f"arg{i}") for i, p in enumerate(pt)]
    out = T.as_value(fn(*inputs))
    if not out.type.dtype.is_float:
        raise TypeError(f"verify_grad: fn must return a float value, got {out.type}")
    proj_var = T.tensor(out.type.dtype, shape=(None,) * out.type.ndim, name="projection")
    cost = T.sum(out * proj_var)
    grads = T.grad(cost, inputs, disconnected_inputs="ignore")
    f_cost = function(inputs + [proj_var], cost, mode=mode, on_unused_input="ignore")
    f_grad = function(inputs + [proj_var], grads, mode=mode, on_unused_input="ignore")
    out_shape = function(inputs, out, mode="reference", on_unused_input="ignore")(*pt).shape
    for _ in range(n_tests):
        proj = rng.uniform(0.5, 1.5, size=out_shape).astype(out.type.dtype.np) * rng.choice([-1, 1], size=out_shape)
        analytic = f_grad(*pt, proj)
        for i, p in enumerate(pt):
            numeric = np.zeros_like(p, dtype=np.float64)
            flat = p.reshape(-1)
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                up = float(f_cost(*pt, proj))
                flat[j] = orig - eps
                down = float(f_cost(*pt, proj))
                flat[j] = orig
                numeric.reshape(-1)[j] = (up - down) / (2 * eps)
            a = np.asarray(analytic[i], dtype=np.float64)
            abs_err = np.abs(a - numeric)
            rel_err = abs_err / np.maximum(np.abs(a) + np.abs(numeric), 1e-300)
            bad = (abs_err > abs_tol) & (rel_err > rel_tol)
            if bad.any() or not np.all(np.isfinite(a)) and np.all(np.isfinite(numeric)):
                raise GradientError(i, float(abs_err.max(initial=0)), float(rel_err.max(initial=0)), a, numeric,
                                    abs_tol, rel_tol)
