"""``symcomp.scan_module`` (Theano's ``theano.scan_module``): symbolic loops.

``scan``, ``map``, ``reduce``, ``foldl``, ``foldr`` and ``until`` (:mod:`symcomp.tensor.scan`);
``Scan`` is the IR op they build (:class:`symcomp.ir.ops.control.Scan`).
"""

from symcomp.ir.ops.control import Scan
from symcomp.tensor.scan import foldl, foldr, map, reduce, scan, until

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "until", "Scan"]
