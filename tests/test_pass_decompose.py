"""The decompose pass: sc.gemm into dot, multiply and add, with the same result."""

import numpy as np

from symcomp import ir
from symcomp.ir.interpreter import evaluate_block
from symcomp.passes.decompose import Decompose

GEMM = """\
module {
  func.func @main(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>, %c: tensor<1x?xf64>) -> (tensor<?x?xf64>) {
    %0 = sc.gemm %a, %b, %c {alpha = 0.5, beta = -2.0} : tensor<?x?xf64>
    func.return %0
  }
}
"""


def test_gemm_becomes_core_ops_with_the_same_value():
    m = ir.parse(GEMM)
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal((1, 3))]
    (before,), _ = evaluate_block(m.func().body, args)
    Decompose().apply(m)
    ir.verify(m)
    text = str(m)
    assert "sc.gemm" not in text and "sc.dot" in text
    (after,), _ = evaluate_block(m.func().body, args)
    np.testing.assert_allclose(after, 0.5 * args[0] @ args[1] - 2.0 * args[2], rtol=1e-14)
    np.testing.assert_allclose(after, before, rtol=1e-14)
