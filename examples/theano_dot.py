"""Theano documentation, adding and multiplying two matrices (dmatrix + dmatrix, dot)."""

import numpy as np

import symcomp as theano
from symcomp import tensor as T

x = T.dmatrix("x")
y = T.dmatrix("y")
f_add = theano.function([x, y], x + y)
f_dot = theano.function([x, y], T.dot(x, y))

a = np.array([[1, 2], [3, 4]], dtype=np.float64)
b = np.array([[10, 20], [30, 40]], dtype=np.float64)
print(f_add(a, b))
print(f_dot(a, b))
assert np.allclose(f_dot(a, b), a @ b)
