"""``symcomp.tensor.signal`` (Theano's ``theano.tensor.signal``): its ``pool`` module."""
