"""Theano documentation, "Adding two scalars", ported by changing the import."""

import numpy as np

import symcomp as theano
from symcomp import tensor as T

x = T.dscalar("x")
y = T.dscalar("y")
z = x + y
f = theano.function([x, y], z)

print(f(2, 3))                      # array(5.0)
print(np.allclose(f(16.3, 12.1), 28.4))
print(type(f(2, 3)), f(2, 3).dtype, f(2, 3).shape)
