"""Theano documentation: a one-hidden-layer network with shared weights, trained with T.grad of the cost.

This is the classic logistic-regression-with-a-hidden-layer program of Theano's tutorial, on random
data: the weights are shared variables and each call of `train` applies one SGD step through `updates`.
"""

import numpy as np

import symcomp as theano
from symcomp import tensor as T

rng = np.random.default_rng(42)
N, feats, hidden = 400, 20, 16
D = (rng.standard_normal((N, feats)), (rng.random(N) > 0.5).astype(np.float64))

x = T.dmatrix("x")
y = T.dvector("y")
w1 = theano.shared(rng.standard_normal((feats, hidden)) * 0.1, name="w1")
b1 = theano.shared(np.zeros(hidden), name="b1")
w2 = theano.shared(rng.standard_normal(hidden) * 0.1, name="w2")
b2 = theano.shared(0.0, name="b2")

h = T.tanh(T.dot(x, w1) + b1)
p_1 = 1 / (1 + T.exp(-T.dot(h, w2) - b2))        # probability that target = 1
prediction = p_1 > 0.5
xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # cross-entropy
cost = xent.mean() + 0.01 * (w1 ** 2).sum()       # with weight decay
gw1, gb1, gw2, gb2 = T.grad(cost, [w1, b1, w2, b2])

train = theano.function(
    inputs=[x, y],
    outputs=[prediction, xent.mean()],
    updates=[(w1, w1 - 0.1 * gw1), (b1, b1 - 0.1 * gb1), (w2, w2 - 0.1 * gw2), (b2, b2 - 0.1 * gb2)])
predict = theano.function(inputs=[x], outputs=prediction)

for i in range(500):
    pred, err = train(D[0], D[1])
print("final cross-entropy:", float(err))
print("training accuracy:", float(np.mean(predict(D[0]) == D[1])))
