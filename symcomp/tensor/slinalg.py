"""``T.slinalg`` (Theano's ``theano.tensor.slinalg``): linear algebra on top of SciPy's.

Not built yet: every name raises NotImplementedError when called (see
:mod:`symcomp.tensor._pending`).
"""

from symcomp.tensor._pending import LINALG, pending

globals().update(pending("symcomp.tensor.slinalg", LINALG,
                         "cholesky", "solve", "solve_lower_triangular", "solve_upper_triangular",
                         "solve_symmetric", "eigvalsh", "kron", "expm", "Cholesky", "Solve", "Eigvalsh", "Expm"))
