"""Tables from op name to the code that handles the op: the CPU and CUDA lowerings, the scalar
emitters of the CPU and MLIR backends, the CUDA kernel templates and the MLIR converters."""

from __future__ import annotations

from typing import Callable


def by_name(table: dict, instantiate: bool = False) -> Callable:
    """A decorator factory ``register(*names)`` entering the decorated function (or, with
    ``instantiate``, one instance of the decorated class) into ``table`` under each op name.

    The decorated object is returned unchanged::

        EMITTERS: dict[str, Emitter] = {}
        emits = by_name(EMITTERS)

        @emits("sc.add", "sc.sub")
        def _arith(cx, op, args): ...
    """

    def register(*names: str):
        def deco(obj):
            value = obj() if instantiate else obj
            for n in names:
                table[n] = value
            return obj

        return deco

    return register
