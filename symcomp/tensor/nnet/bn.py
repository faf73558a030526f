"""``T.nnet.bn`` (Theano's ``theano.tensor.nnet.bn``): batch normalization.

Not yet supported: every name raises NotImplementedError when called (see
:mod:`symcomp.tensor._pending`).
"""

from symcomp.tensor._pending import CONVOLUTION, pending

globals().update(pending("symcomp.tensor.nnet.bn", CONVOLUTION,
                         "batch_normalization", "batch_normalization_train", "batch_normalization_test",
                         "AbstractBatchNormTrain", "AbstractBatchNormInference", "AbstractBatchNormTrainGrad"))
