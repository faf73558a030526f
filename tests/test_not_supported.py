"""docs/not-supported.md is kept in step with the code.

* every name it lists as not supported (or named differently) is absent from symcomp: when one is
  added, the row must go;
* every function of Theano's documented API (the inventory below) exists in symcomp or is listed
  on the page, so a porting user finds every gap there;
* the README links to the page.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from symcomp import tensor as T

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "not-supported.md").read_text(encoding="utf-8")

# Theano 1.0's documented user API (doc/library/tensor/basic.txt, tensor/nnet/nnet.txt, tensor/nnet/conv.txt,
# tensor/nnet/bn.txt, tensor/signal/pool.txt, tensor/nlinalg.txt, tensor/slinalg.txt, gradient.txt, scan.txt,
# printing.txt, compile/function.txt, tensor/shared_randomstreams.txt, sandbox/rng_mrg.txt, ifelse, sparse, and
# theano/tensor/__init__.py's extra_ops, sort and gradient imports), in this page's notation.
THEANO_API = """
T.scalar T.vector T.row T.col T.matrix T.tensor3 T.tensor4 T.tensor5 T.tensor6 T.tensor7
T.iscalars T.lscalars T.fscalars T.dscalars T.ivectors T.lvectors T.fvectors T.dvectors T.irows T.lrows T.frows
T.drows T.icols T.lcols T.fcols T.dcols T.imatrices T.lmatrices T.fmatrices T.dmatrices
T.as_tensor_variable T.shape T.reshape T.shape_padleft T.shape_padright T.shape_padaxis T.unbroadcast
T.addbroadcast T.patternbroadcast T.flatten T.tile T.roll T.zeros_like T.ones_like T.zeros T.ones T.fill T.alloc
T.eye T.identity_like T.stack T.concatenate T.stacklists T.choose T.max T.argmax T.max_and_argmax T.min T.argmin
T.sum T.prod T.mean T.var T.std T.all T.any T.ptp T.set_subtensor T.inc_subtensor T.cast T.real T.imag T.lt T.gt
T.le T.ge T.eq T.neq T.isnan T.isinf T.isclose T.allclose T.switch T.where T.clip T.and_ T.or_ T.xor T.invert
T.bitwise_and T.bitwise_or T.bitwise_xor T.bitwise_not T.abs_ T.angle T.exp T.maximum T.minimum T.neg T.inv T.log
T.sgn T.ceil T.floor T.round T.iround T.sqr T.sqrt T.cos T.cosh T.erf T.erfinv T.gamma T.gammaln T.psi T.chi2sf
T.dot T.outer T.tensordot T.batched_dot T.batched_tensordot T.mgrid T.ogrid
T.sort T.argsort T.topk T.argtopk T.bincount T.squeeze T.repeat T.fill_diagonal T.cumsum T.cumprod T.diff
T.unravel_index T.ravel_multi_index T.specify_shape T.nonzero T.flatnonzero T.nonzero_values T.diag T.trace
T.triu T.tril T.extract_diag T.horizontal_stack T.vertical_stack T.join T.split T.swapaxes T.largest T.smallest
T.grad T.jacobian T.hessian T.Rop T.Lop T.consider_constant T.verify_grad
T.nnet.sigmoid T.nnet.ultra_fast_sigmoid T.nnet.hard_sigmoid T.nnet.softplus T.nnet.softsign T.nnet.softmax
T.nnet.relu T.nnet.elu T.nnet.selu T.nnet.binary_crossentropy T.nnet.sigmoid_binary_crossentropy
T.nnet.categorical_crossentropy T.nnet.h_softmax T.nnet.logsoftmax T.nnet.crossentropy_softmax_1hot
T.nnet.conv2d T.nnet.conv2d_transpose T.nnet.conv3d T.nnet.bn.batch_normalization T.signal.pool.pool_2d
T.nlinalg.matrix_inverse T.nlinalg.det T.slinalg.solve T.slinalg.cholesky
T.shared_randomstreams.RandomStreams theano.sandbox.rng_mrg.MRG_RandomStreams
theano.function theano.shared theano.In theano.Out theano.OpFromGraph theano.scan theano.map theano.reduce
theano.foldl theano.foldr theano.scan_checkpoints theano.ifelse.ifelse theano.printing.debugprint
theano.printing.pp theano.pp theano.printing.pydotprint theano.sparse.csr_matrix
x.eval x.dimshuffle x.reshape x.flatten x.astype x.T x.sum x.mean x.max x.min x.argmax x.argmin x.prod x.std
x.var x.norm x.clip x.round x.nonzero x.sort x.copy x.transpose x.any x.all x.cumsum x.squeeze x.take x.repeat
x.diagonal x.trace x.dot x.shape x.ndim x.dtype x.broadcastable
""".split()

_NAME = re.compile(r"^(?:theano|T|x)\.[A-Za-z_][A-Za-z0-9_.]*$")


def _resolve(name: str) -> bool:
    """Whether ``name`` (page notation) exists in symcomp (a placeholder that raises
    NotImplementedError, symcomp.tensor._pending, does not count)."""
    head, *parts = name.split(".")
    if head == "x":
        return hasattr(T.dmatrix("x"), parts[0])
    path = ["symcomp"] + (["tensor"] if head == "T" else []) + parts
    obj = importlib.import_module("symcomp")
    for i, part in enumerate(path[1:], start=1):
        if not hasattr(obj, part):
            try:
                obj = importlib.import_module(".".join(path[:i + 1]))
                continue
            except ImportError:
                return False
        obj = getattr(obj, part)
    from symcomp.tensor._pending import NotYetSupported

    return not isinstance(obj, NotYetSupported)


def _section(title: str) -> str:
    start = PAGE.index(title)
    rest = PAGE[start + len(title):]
    m = re.search(r"^## ", rest, re.M)
    return rest[:m.start()] if m else rest


def _first_column_names(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            first = line.split("|")[1]
            names += [n for n in re.findall(r"`([^`]+)`", first) if _NAME.match(n)]
    return names


LISTED = _first_column_names(PAGE)


def test_the_page_lists_names():
    assert len(LISTED) > 50 and len(set(LISTED)) == len(LISTED), "a name is listed twice"


@pytest.mark.parametrize("name", LISTED)
def test_a_listed_name_is_not_in_symcomp(name):
    assert not _resolve(name), f"{name} exists in symcomp now: take it off docs/not-supported.md"


def test_what_renamed_features_are_called_exists():
    for line in _section("## Named differently").splitlines()[3:]:
        if not line.startswith("| "):
            continue
        second = line.split("|")[2]
        for name in re.findall(r"`((?:T|symcomp)\.[A-Za-z_][A-Za-z0-9_.]*)", second):
            assert _resolve(name.replace("symcomp.", "theano.", 1)), f"{name} (docs/not-supported.md) does not exist"


@pytest.mark.parametrize("name", sorted(set(THEANO_API)))
def test_every_documented_theano_function_exists_or_is_listed(name):
    listed = any(name == n or name.startswith(n + ".") for n in LISTED)
    assert _resolve(name) or listed, f"Theano's {name} is neither in symcomp nor on docs/not-supported.md"


def test_the_readme_links_the_page():
    assert "(docs/not-supported.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
