"""Theano documentation, "Computing gradients": d(x**2)/dx and the gradient of y*x (a product)."""

import numpy as np

import symcomp as theano
from symcomp import tensor as T

x = T.dscalar("x")
y = x ** 2
gy = T.grad(y, x)
f = theano.function([x], gy)
print(f(4))          # 8.0
print(f(94.2))       # 188.4

# The gradient of y * x with respect to both.
a = T.dscalar("a")
b = T.dscalar("b")
prod = a * b
ga, gb = T.grad(prod, [a, b])
g = theano.function([a, b], [ga, gb])
print(g(3.0, 5.0))   # [array(5.0), array(3.0)]

# The logistic function's gradient, elementwise.
m = T.dmatrix("m")
s = T.sum(1 / (1 + T.exp(-m)))
gs = theano.function([m], T.grad(s, m))
print(gs(np.array([[0, 1], [-1, -2]], dtype=np.float64)))
