"""Names of Theano's API that symcomp does not provide yet: each raises NotImplementedError
when called, naming the feature, so a ported program imports and fails only where it uses one.

The modules under Theano's paths (``symcomp.tensor.signal.pool``, ``symcomp.ifelse``...) list
them; ``docs/theano_api.md`` says what ports and what does not.
"""

from __future__ import annotations

CONVOLUTION = "convolutions, pooling and batch normalization are the convolution work, not built yet"
LINALG = "this linear-algebra op is not built yet"
OPS = "this op is not built yet"


class NotYetSupported:
    """A callable placeholder for a Theano function or class symcomp does not provide yet.

    Calling it (or instantiating it, for a class name) raises NotImplementedError naming the
    Theano name and why.
    """

    def __init__(self, name: str, reason: str):
        self.__name__ = self.__qualname__ = name.rpartition(".")[2]
        self._name = name
        self._reason = reason
        self.__doc__ = f"Not yet supported by symcomp: {name} ({reason}). Calling it raises NotImplementedError."

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(f"{self._name} is not yet supported by symcomp ({self._reason})")

    def __repr__(self) -> str:
        return f"<not yet supported: {self._name}>"


def pending(module: str, reason: str, *names: str) -> dict:
    """{name: NotYetSupported} for ``names`` of Theano's ``module``, to update a module's globals with."""
    return {n: NotYetSupported(f"{module}.{n}", reason) for n in names}
