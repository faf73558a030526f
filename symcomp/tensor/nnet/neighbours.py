"""``T.nnet.neighbours`` (Theano's ``theano.tensor.nnet.neighbours``): image patches as rows.

Not yet supported: every name raises NotImplementedError when called (see
:mod:`symcomp.tensor._pending`).
"""

from symcomp.tensor._pending import CONVOLUTION, pending

globals().update(pending("symcomp.tensor.nnet.neighbours", CONVOLUTION,
                         "images2neibs", "neibs2images", "Images2Neibs"))
