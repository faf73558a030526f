"""``symcomp.tensor.signal.pool`` (Theano's ``theano.tensor.signal.pool``): max and average pooling.

Not yet supported: every name raises NotImplementedError when called (see
:mod:`symcomp.tensor._pending`).
"""

from symcomp.tensor._pending import CONVOLUTION, pending

globals().update(pending("symcomp.tensor.signal.pool", CONVOLUTION,
                         "pool_2d", "pool_3d", "max_pool_2d_same_size", "Pool", "PoolGrad", "MaxPoolGrad",
                         "AveragePoolGrad"))
