"""``symcomp.gradient``: Theano's ``theano.gradient`` under its own path.

The real code lives in the layers (docs/architecture.md): ``grad`` in :mod:`symcomp.autodiff`,
``verify_grad`` in :mod:`symcomp.gradcheck`, the gradient helpers in
:mod:`symcomp.tensor.custom_vjp`.  ``docs/theano_api.md`` lists what ports.

* ``grad``, ``verify_grad``, ``Lop`` (a ``grad`` seeded with ``known_grads``), ``Rop`` (the
  transpose of ``Lop``), ``jacobian`` and ``hessian`` (built with ``scan``, as Theano does);
* ``zero_grad``, ``disconnected_grad``, ``grad_clip``, ``grad_scale``: the value unchanged,
  the gradient zero, absent, clipped, scaled (``consider_constant``, deprecated in Theano, is
  ``zero_grad`` with Theano's warning);
* ``subgraph_grad``, ``undefined_grad``, ``numeric_grad``: not built yet, they raise
  NotImplementedError.
"""

from __future__ import annotations

import warnings

from symcomp.autodiff import DisconnectedInputError, Lop, Rop, grad, hessian, jacobian
from symcomp.gradcheck import GradientError, verify_grad
from symcomp.tensor._pending import pending as _pending
from symcomp.tensor.custom_vjp import disconnected_grad, grad_clip, grad_scale, zero_grad

__all__ = ["grad", "verify_grad", "Lop", "Rop", "jacobian", "hessian", "zero_grad", "disconnected_grad", "grad_clip", "grad_scale",
           "consider_constant", "DisconnectedInputError", "GradientError"]


def consider_constant(x):
    """Deprecated in Theano (use :func:`zero_grad` or :func:`disconnected_grad`): ``zero_grad(x)``."""
    warnings.warn("consider_constant() is deprecated, use zero_grad() or disconnected_grad() instead.",
                  stacklevel=2)  # a UserWarning, as Theano's
    return zero_grad(x)


globals().update(_pending("symcomp.gradient", "not built yet",
                          "subgraph_grad", "undefined_grad", "numeric_grad"))
