"""Shared variables on the GPU: a device copy per variable, kept between calls.

A shared variable read or updated by a function compiled with ``device="cuda"``
gets a :class:`DeviceContainer` in place of its one-element ``container`` list.
It still behaves as that list (``container[0]`` is the host value, as every
other part of symcomp expects) and adds a device copy.  The sync rule:

* a CUDA call reads the device copy, uploading the host value first if there
  is no device copy yet (or the host value was replaced since);
* a CUDA call's updates replace the device copy; the host value is then stale
  and is not copied back;
* reading the host value (``get_value()``, a CPU function, pickling) downloads
  the device copy first if the host value is stale;
* writing the host value (``set_value()``, a CPU function's update) drops the
  device copy; the next CUDA call uploads the new value.

So training loops keep their weights on the device (updates never copy to the
host), and every reader still sees the latest value.
"""

from __future__ import annotations

import numpy as np

from symcomp.backends.cuda import memory


class DeviceContainer(list):
    """A shared variable's ``[host value]`` list with a device copy (see the module docstring).

    Attributes:
        dtype: the variable's NumPy dtype (bool is stored on the device as uint8).
    """

    def __init__(self, value: np.ndarray, dtype: np.dtype):
        super().__init__([value])
        self.dtype = np.dtype(dtype)
        self._device = None
        self._host_stale = False

    def __getitem__(self, i):
        if self._host_stale:
            host = memory.to_host(self._device)
            list.__setitem__(self, 0, host.view(self.dtype) if host.dtype != self.dtype else host)
            self._host_stale = False
        return list.__getitem__(self, i)

    def __setitem__(self, i, value):
        list.__setitem__(self, i, value)
        self._device = None
        self._host_stale = False

    def device_value(self):
        """The device copy (C-contiguous, storage dtype), uploaded from the host value if needed."""
        if self._device is None:
            host = list.__getitem__(self, 0)
            self._device = memory.to_device(host)
        return self._device

    def set_device(self, value) -> None:
        """Replace the value by a device array (a CUDA call's update); the host value becomes stale."""
        self._device = value
        self._host_stale = True

    def __reduce__(self):
        return (list, ([self[0]],))


def attach(var) -> DeviceContainer:
    """The variable's DeviceContainer, installing one in place of its plain list on first use."""
    c = var.container
    if not isinstance(c, DeviceContainer):
        c = DeviceContainer(c[0], var.type.dtype.np)
        var.container = c
    return c
