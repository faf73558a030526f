"""Theano's ``theano.sandbox.rng_mrg`` path: ``MRG_RandomStreams`` (an alias module).

symcomp has one generator, Philox4x32-10 (:mod:`symcomp.tensor.randomstreams`); MRG31k3p is
not implemented, so the numbers differ from Theano's, but the API and the semantics are the same.
"""

from symcomp.tensor.randomstreams import MRG_RandomStreams

__all__ = ["MRG_RandomStreams"]
