"""Theano's ``theano.tensor.shared_randomstreams`` path: ``RandomStreams`` (an alias module).

The numbers come from Philox4x32-10 (:mod:`symcomp.tensor.randomstreams`), not from NumPy's
``RandomState`` as in Theano, so they differ from Theano's; the API and the semantics are the same.
"""

from symcomp.tensor.randomstreams import RandomStreams, RandomVariable

__all__ = ["RandomStreams", "RandomVariable"]
