"""``symcomp.gradient``: Theano's ``theano.gradient`` under its own path.

The real code lives in the layers (docs/architecture.md): ``grad`` in :mod:`symcomp.autodiff`,
``verify_grad`` in :mod:`symcomp.gradcheck`, the gradient helpers in
:mod:`symcomp.tensor.custom_vjp`.  ``docs/theano_api.md`` lists what ports.

* ``grad``, ``verify_grad``, ``Lop`` (a ``grad`` seeded with ``known_grads``);
* ``zero_grad``, ``disconnected_grad``, ``grad_clip``, ``grad_scale``: the value unchanged,
  the gradient zero, absent, clipped, scaled (``consider_constant``, deprecated in Theano, is
  ``zero_grad`` with Theano's warning);
* ``Rop``, ``jacobian``, ``hessian``, ``subgraph_grad``, ``undefined_grad``: not built yet,
  they raise NotImplementedError.
"""

from __future__ import annotations

import warnings

from symcomp.autodiff import DisconnectedInputError, grad
from symcomp.gradcheck import GradientError, verify_grad
from symcomp.tensor._pending import pending as _pending
from symcomp.tensor.custom_vjp import disconnected_grad, grad_clip, grad_scale, zero_grad

__all__ = ["grad", "verify_grad", "Lop", "zero_grad", "disconnected_grad", "grad_clip", "grad_scale",
           "consider_constant", "DisconnectedInputError", "GradientError"]


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs: str = "raise"):
    """``eval_points`` times the Jacobian of ``f`` with respect to ``wrt`` (a vector-Jacobian product).

    ``L[j] = sum_i eval_points[i] * d f[i] / d wrt[j]``, summed over every element of every
    ``f[i]``: ``grad`` with ``known_grads={f[i]: eval_points[i]}``, as Theano computes it.

    Args:
        f: a symbolic value or a list of them.
        wrt: a symbolic value or a list/tuple of them.
        eval_points: one value per ``f``, of its shape.
        consider_constant, disconnected_inputs: as for :func:`grad`.

    Returns:
        One value per ``wrt``: a list or tuple when ``wrt`` is one, else a single value.

    Raises:
        ValueError: if ``f`` and ``eval_points`` differ in length.
    """
    points = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    if len(fs) != len(points):
        raise ValueError(f"Lop: {len(fs)} values f but {len(points)} eval_points")
    as_list = isinstance(wrt, (list, tuple))
    out = grad(None, list(wrt) if as_list else [wrt], consider_constant=consider_constant,
               disconnected_inputs=disconnected_inputs, known_grads=dict(zip(fs, points)))
    if not as_list:
        return out[0]
    return tuple(out) if isinstance(wrt, tuple) else out


def consider_constant(x):
    """Deprecated in Theano (use :func:`zero_grad` or :func:`disconnected_grad`): ``zero_grad(x)``."""
    warnings.warn("consider_constant() is deprecated, use zero_grad() or disconnected_grad() instead.",
                  stacklevel=2)  # a UserWarning, as Theano's
    return zero_grad(x)


globals().update(_pending("symcomp.gradient", "not built yet",
                          "Rop", "jacobian", "hessian", "subgraph_grad", "undefined_grad", "numeric_grad"))
