"""Theano's defaults where symcomp had been stricter without a reason: allow_input_downcast=None
and THEANO_FLAGS.

Theano's rules, from its sources (theano/tensor/type.py ``TensorType.filter``; theano/configparser.py):
with ``allow_input_downcast=None`` a Python ``float`` (``type(data) is float``) passed for an input
of dtype ``config.floatX`` is cast to it, and anything else must convert exactly; ``THEANO_FLAGS`` is
a comma-separated list of ``key=value`` entries (later ones win, an entry without '=' is ignored with
a warning, an unknown flag is warned about).
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.config import Config


@pytest.fixture
def floatx():
    """``floatx("float32")`` sets config.floatX for the test (restored afterwards)."""
    old = symcomp.config.floatX

    def set_(value):
        symcomp.config.floatX = value

    yield set_
    symcomp.config.floatX = old


def test_a_python_float_is_cast_to_a_floatx_input(floatx):
    floatx("float32")
    s = T.fscalar("s")
    f = symcomp.function([s], s * 2)
    got = f(0.1)
    assert got.dtype == np.float32 and got.tobytes() == (np.float32(0.1) * np.float32(2)).tobytes()
    assert f(0.1) == got  # the native fast path too
    v = T.fvector("v")
    g = symcomp.function([v], v + 1.0)
    assert g(np.array([1.0, 2.0], np.float32)).tolist() == [2.0, 3.0]


def test_what_theanos_default_still_refuses(floatx):
    s, v = T.fscalar("s"), T.fvector("v")
    f = symcomp.function([s], s * 2)
    with pytest.raises(TypeError, match=r"0.1 cannot be represented exactly as float32; pass "
                                        r"allow_input_downcast=True .*only for inputs of config.floatX, now float64"):
        f(0.1)  # float32 is not floatX
    assert f(0.5) == 1.0  # exact values always pass
    floatx("float32")
    with pytest.raises(TypeError, match="cannot be represented exactly"):
        symcomp.function([v], v * 2)([0.1, 0.2])  # a list is not a Python float (Theano: the same)
    with pytest.raises(TypeError, match="would be downcast"):
        f(np.float64(0.1))  # NumPy values keep their dtype
    with pytest.raises(TypeError, match="cannot be represented exactly as float32; pass allow_input_downcast=True "
                                        "to convert anyway$"):
        symcomp.function([s], s * 2, allow_input_downcast=False)(0.1)
    i = T.lscalar("i")
    with pytest.raises(TypeError, match="cannot be represented exactly as int64"):
        symcomp.function([i], i * 2)(2.5)
    assert symcomp.function([s], s * 2, allow_input_downcast=True)(np.float64(0.1)) == np.float32(0.1) * 2


def _config(monkeypatch, **env):
    for var in ("SYMCOMP_FLAGS", "THEANO_FLAGS"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = Config()
    return c, [str(w.message) for w in caught]


def test_theano_flags_are_read_when_symcomp_flags_is_not_set(monkeypatch):
    c, warned = _config(monkeypatch, THEANO_FLAGS="floatX=float32, device=cuda0 ,mode=FAST_COMPILE,"
                                                  "optimizer=fast_run,exception_verbosity=high")
    assert (c.floatX, c.device, c.mode) == ("float32", "cuda", "fast_compile")
    assert len(warned) == 1 and "THEANO_FLAGS: symcomp ignores optimizer=fast_run, exception_verbosity=high" \
        in warned[0]
    c, warned = _config(monkeypatch, THEANO_FLAGS="mode=DebugMode,device=gpu,mode=NanGuardMode,num_threads=1")
    assert (c.mode, c.device, c.num_threads) == ("nanguard", "cuda", 1) and warned == []  # the last mode wins
    c, warned = _config(monkeypatch, THEANO_FLAGS="device=cpu,floatX=float16,openmp")
    assert (c.floatX, c.device) == ("float64", "cpu")
    assert any("entry 'openmp' has no value; ignored" in w for w in warned)
    assert any("ignores floatX=float16" in w for w in warned)


def test_symcomp_flags_take_precedence(monkeypatch):
    c, warned = _config(monkeypatch, SYMCOMP_FLAGS="mode=reference", THEANO_FLAGS="floatX=float32,mode=FAST_COMPILE")
    assert (c.floatX, c.mode, warned) == ("float64", "reference", [])
    c, _ = _config(monkeypatch, SYMCOMP_FLAGS="", THEANO_FLAGS="floatX=float32")
    assert c.floatX == "float64"  # set, even empty: symcomp's own flags
    with pytest.raises(ValueError, match="config.floatX must be one of"):
        _config(monkeypatch, SYMCOMP_FLAGS="floatX=float16")  # symcomp's own flags stay strict


def test_theano_flags_at_import():
    env = {k: v for k, v in os.environ.items() if k != "SYMCOMP_FLAGS"}
    env["THEANO_FLAGS"] = "floatX=float32"
    code = ("import symcomp; from symcomp import tensor as T; x = T.scalar('x'); "
            "f = symcomp.function([x], x * 2); print(x.type, repr(f(0.1)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["tensor<f32>", "array(0.2,", "dtype=float32)"]


def test_theano_flags_carry_warn_flags_and_ignore_what_symcomp_does_not_know(monkeypatch):
    """Theano programs set warn.* in THEANO_FLAGS: they are applied; a value symcomp does not know is
    ignored with the warning (as other THEANO_FLAGS values are), never an error at import."""
    c, warned = _config(monkeypatch, THEANO_FLAGS="warn.round=False,floatX=float32")
    assert (c.warn.round, c.floatX, warned) == (False, "float32", [])
    c, warned = _config(monkeypatch, THEANO_FLAGS="warn.ignore_bug_before=0.42,floatX=float32")
    assert c.floatX == "float32" and c.warn.ignore_bug_before == "0.8"
    assert len(warned) == 1 and "ignores warn.ignore_bug_before=0.42" in warned[0]
