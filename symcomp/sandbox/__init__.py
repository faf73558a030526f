"""Theano's ``theano.sandbox`` paths, kept as aliases (the real code lives in :mod:`symcomp.tensor`)."""
