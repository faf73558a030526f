"""Theano documentation, broadcasting: a dmatrix plus a dvector (the vector is added to every row)."""

import numpy as np

import symcomp as theano
from symcomp import tensor as T

m = T.dmatrix("m")
v = T.dvector("v")
f = theano.function([m, v], m + v)
M = np.arange(6, dtype=np.float64).reshape(2, 3)
V = np.array([10.0, 20.0, 30.0])
print(f(M, V))
assert np.array_equal(f(M, V), M + V)

# Broadcasting along columns needs an axis known to have size 1 (Theano's rule): a column.
c = T.dcol("c")
g = theano.function([m, c], m * c)
print(g(M, np.array([[1.0], [2.0]])))
