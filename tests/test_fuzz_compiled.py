"""Fuzzing the CPU backend with IR read from text: mutated modules that parse and verify are compiled and
run on random arguments; the result equals the reference interpreter's, or both refuse the call -- never
a crash, never a hang, never another exception.  (A crash would kill the test process: that is the point.)"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symcomp import ir
from symcomp.backends.cpu import compile_cpu
from symcomp.backends.reference import ReferenceExecutable
from symcomp.compile.debug import compare
from symcomp.compile.trace import Signature
from symcomp.ir.errors import ParseError, VerifyError

from fuzz_seeds import module_seeds, mutated, time_limit
from robust_helpers import concrete

EXAMPLES = 300
REFUSALS = (ValueError, IndexError, MemoryError)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          database=None)
@given(mutated(seeds=module_seeds()), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_mutated_modules_compile_and_run_like_the_reference(text, n, seed):
    try:
        module = ir.parse(text, "fuzz.sc")
        reference_module = ir.parse(text, "fuzz.sc")
    except (ParseError, VerifyError):
        return
    if not module.funcs:
        return
    func = module.func()
    if any(d is not None and d > 4096 for a in func.args for d in a.type.shape):
        return  # static sizes too large to make arguments for
    args = [concrete(a.type, np.random.default_rng(seed), n) for a in func.args]
    assigns = [o for o in func.body.ops if o.name == "sc.assign"]
    sig = Signature(n_outputs=len(func.return_op.operands), updates=[(None, a.operands[0].index) for a in assigns])
    with time_limit(60):
        try:
            exe = compile_cpu(module, sig, {})
        except NotImplementedError:
            return  # e.g. a size that depends on data: refused with a message at compile time
        try:
            want = ReferenceExecutable(reference_module, sig).run([a.copy() for a in args])
        except REFUSALS as exc:
            want, refused = None, exc
        try:
            got = exe.run(args)
        except REFUSALS:
            assert want is None, "the compiled code refused a call the reference accepts"
            return
    assert want is not None, f"the compiled code accepted a call the reference refuses ({refused!r})"
    for g, w in zip(got[0] + got[1], want[0] + want[1]):
        assert compare(g, w) is None, compare(g, w)
