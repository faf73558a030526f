"""Seeds and mutations for fuzzing the IR parser, ``symcomp-opt`` and compiled IR.

Seeds are real modules: every ``.sc`` test input, an MLP training step (traced
and optimized), fused loop nests with and without reductions, and constants
of every kind (splats, nested lists, hex blobs, NaN/inf/-0.0, booleans,
unsigned integers).  Mutations work on characters and on tokens: delete,
insert, replace, duplicate and truncate spans; swap, drop or duplicate
tokens and whole lines; replace numbers by extreme ones and types by other
types.
"""

from __future__ import annotations

import contextlib
import functools
import pathlib
import re
import signal

import numpy as np
from hypothesis import strategies as st

OPT_TESTS = pathlib.Path(__file__).parent / "opt"

FUSED = """module {
  func.func @fused(%x: tensor<?x3xf64>, %y: tensor<1x3xf64>) -> (tensor<?x3xf64>, tensor<?xf64>) {
    %0 = sc.fused %x, %y : tensor<?x3xf64> ({
    ^bb0(%a: tensor<f64>, %b: tensor<f64>):
      %1 = sc.mul %a, %b : tensor<f64>
      %2 = sc.sqrt %1 : tensor<f64>
      %3 = sc.add %2, %a : tensor<f64>
      sc.yield %3
    })
    %4 = sc.fused %x {reduce = "max", axes = [1]} : tensor<?xf64> ({
    ^bb0(%c: tensor<f64>):
      %5 = sc.constant {value = dense<2.0>} : tensor<f64>
      %6 = sc.mul %c, %5 : tensor<f64>
      sc.yield %6
    })
    func.return %0, %4
  }
}
"""


def _constants_module() -> str:
    from symcomp import tensor as T
    from symcomp.compile.trace import trace

    x = T.dvector("x")
    consts = [
        np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, 1.7976931348623157e308]),
        np.full((2, 3), 0.1, np.float32),
        np.arange(80, dtype=np.int64).reshape(8, 10),  # printed as hex
        np.array([[True, False], [False, True]]),
        np.array([0, 255], np.uint8),
        np.array(-7, np.int32),
        np.linspace(0, 1, 70),
    ]
    outs = [T.sum(T.cast(T.constant(c), "float64")) + T.sum(x) for c in consts]
    module, _ = trace([x], outs)
    return str(module)


def _mlp_modules() -> list[str]:
    """A training step of a small MLP: traced, and after the fast mode's pipeline (no code generation)."""
    import symcomp
    from symcomp import tensor as T
    from symcomp.compile.modes import get_mode
    from symcomp.compile.trace import trace

    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.lvector("y")
    W1 = symcomp.shared(rng.uniform(-0.1, 0.1, (8, 16)), name="W1")
    b1 = symcomp.shared(np.zeros(16), name="b1")
    W2 = symcomp.shared(np.zeros((16, 4)), name="W2")
    b2 = symcomp.shared(np.zeros(4), name="b2")
    probs = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1) + b1), W2) + b2)
    loss = T.mean(T.nnet.categorical_crossentropy(probs, y))
    params = [W1, b1, W2, b2]
    updates = [(p, p - 0.5 * g) for p, g in zip(params, T.grad(loss, params))]
    module, _ = trace([x, y], [loss], updates, name="train_step")
    traced = str(module)
    get_mode("fast").optimize(module, {}, {})
    return [traced, str(module)]


@functools.cache
def module_seeds() -> tuple[str, ...]:
    """The valid seed modules built here: fused loops, constants, an MLP step (traced and optimized)."""
    return (FUSED, _constants_module(), *_mlp_modules())


@functools.cache
def seed_texts() -> tuple[str, ...]:
    """Every seed: the chunks of the .sc test inputs (some invalid on purpose) and :func:`module_seeds`."""
    texts = []
    for path in sorted(OPT_TESTS.glob("*.sc")):
        texts.extend(chunk for chunk in path.read_text().split("// -----\n") if "module" in chunk)
    return tuple(texts) + module_seeds()


_ALPHABET = "%@^{}()[]<>,:=?x-.\"\\ \n\t0123456789abcdefimnstuy_"
_TOKEN = re.compile(r"%[\w$.]+|@\"[^\"]*\"|@[\w$.]+|\"(?:[^\"\\]|\\.)*\"|[A-Za-z_][\w.$]*"
                    r"|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|\S")
_NUMBERS = ["0", "-1", "1", "2147483648", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
            "18446744073709551616", "99999999999999999999999999", "1e308", "1e309", "-0.0", "nan", "inf", "0x1"]
_TYPES = ["tensor<f64>", "tensor<?xf32>", "tensor<0xi64>", "tensor<?x?x?xi1>", "tensor<1x1xui8>",
          "tensor<4294967296xf64>", "tensor<9223372036854775807x2xf64>", "tensor<?xf16>", "tensor<>", "tensor<-1xf64>"]


@st.composite
def mutated(draw, seeds=None):
    """A seed text with one to four character- or token-level mutations."""
    text = draw(st.sampled_from(seeds if seeds is not None else seed_texts()))
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            text = _char_mutation(draw, text)
        else:
            text = _token_mutation(draw, text)
    return text


def _char_mutation(draw, text: str) -> str:
    i = draw(st.integers(0, len(text)))
    j = draw(st.integers(i, min(len(text), i + 12)))
    kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate", "unicode"]))
    if kind == "delete":
        return text[:i] + text[j:]
    if kind == "insert":
        return text[:i] + draw(st.text(_ALPHABET, min_size=1, max_size=6)) + text[i:]
    if kind == "replace":
        return text[:i] + draw(st.text(_ALPHABET, max_size=6)) + text[j:]
    if kind == "duplicate":
        return text[:j] + text[i:j] + text[j:]
    if kind == "unicode":
        return text[:i] + draw(st.text(min_size=1, max_size=3)) + text[j:]
    return text[:i]


def _token_mutation(draw, text: str) -> str:
    spans = [m.span() for m in _TOKEN.finditer(text)]
    if not spans:
        return text
    k = draw(st.integers(0, len(spans) - 1))
    a, b = spans[k]
    tok = text[a:b]
    kind = draw(st.sampled_from(["drop", "dup", "swap", "number", "type", "line-drop", "line-dup", "line-swap"]))
    if kind == "drop":
        return text[:a] + text[b:]
    if kind == "dup":
        return text[:b] + " " + tok + text[b:]
    if kind == "swap":
        c, d = spans[draw(st.integers(0, len(spans) - 1))]
        if c < a:
            a, b, c, d = c, d, a, b
        if c < b:
            return text
        return text[:a] + text[c:d] + text[b:c] + text[a:b] + text[d:]
    if kind == "number":
        return text[:a] + draw(st.sampled_from(_NUMBERS)) + text[b:] if re.fullmatch(r"-?\d.*", tok) else text
    if kind == "type":
        m = list(re.finditer(r"tensor<[^>]*>", text))
        if not m:
            return text
        t = m[draw(st.integers(0, len(m) - 1))]
        return text[:t.start()] + draw(st.sampled_from(_TYPES)) + text[t.end():]
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "line-drop":
        del lines[i]
    elif kind == "line-dup":
        lines.insert(i, lines[i])
    else:
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail with TimeoutError if the block runs longer than ``seconds`` (SIGALRM; main thread, POSIX)."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
