"""The verifier on IR built from Python (what passes produce): SSA, structure, use lists, types."""

import numpy as np
import pytest

from symcomp import ir
from symcomp import tensor as T
from symcomp.compile.trace import trace
from symcomp.ir.core import Block, Operation, Region
from symcomp.ir.errors import VerifyError
from symcomp.ir.module import ReturnOp, new_func, new_module
from symcomp.ir.opdef import op
from symcomp.ir.ops.basic import Assign, Constant
from symcomp.ir.ops.elementwise import Add, Exp, Neg
from symcomp.ir.ops.fused import Fused, Yield
from symcomp.ir.ops.reduce import Sum
from symcomp.ir.types import TensorType, float64

VEC = TensorType(float64, (None,))
SCALAR = TensorType(float64, ())


def traced(build=lambda x: T.exp(x) + x):
    x = T.dvector("x")
    module, _ = trace([x], [build(x)])
    return module


def func_of(*ops, args=(VEC,), ret=None):
    f = new_func("f", list(args), ["x"] * len(args))
    for o in ops:
        f.body.append(o)
    if ret is not None:
        f.body.append(ReturnOp(ret, [], {}))
    return new_module([f]), f


def verify_error(module) -> VerifyError:
    with pytest.raises(VerifyError) as info:
        ir.verify(module)
    return info.value


def test_traced_module_verifies():
    ir.verify(traced())


def test_use_before_definition():
    f = new_func("f", [VEC], ["x"])
    a = Neg([f.args[0]], [VEC], {})
    b = Exp([a.result], [VEC], {})
    f.body.append(b)
    f.body.append(a)
    f.body.append(ReturnOp([b.result], [], {}))
    err = verify_error(new_module([f]))
    assert err.message == "sc.exp: operand #0 is used before its definition (SSA dominance)"
    assert err.op is b


def test_value_of_another_function():
    m1, f1 = func_of(args=(VEC,))
    g = new_func("g", [], [])
    g.body.append(ReturnOp([f1.args[0]], [], {}))
    m1.body.append(g)
    f1.body.append(ReturnOp([f1.args[0]], [], {}))
    err = verify_error(m1)
    assert err.message == "func.return: operand #0 (%x) is not defined in function @g"


def test_location_of_ops_built_in_python_names_the_user_line():
    module = traced(lambda x: T.exp(x))
    e = module.func().body.first
    e.results[0].type = SCALAR  # corrupt the type
    err = verify_error(module)
    assert err.loc.file == __file__
    assert "sc.exp: result #0 has type tensor<f64>, but the type rule gives tensor<?xf64>" in str(err)
    assert "module = traced(lambda x: T.exp(x))" in str(err)  # the line that built the op, from linecache


def test_stale_use_list_is_reported():
    module = traced()
    add = [o for o in module.func().body.ops if o.name == "sc.add"][0]
    add.operands[0] = add.operands[1]  # bypasses set_operand: uses are now wrong
    err = verify_error(module)
    assert "use list" in err.message and "IR changed without updating uses" in err.message


def test_missing_use_is_reported():
    module = traced()
    add = [o for o in module.func().body.ops if o.name == "sc.add"][0]
    add.operands[1]._uses.remove((add, 1))
    err = verify_error(module)
    assert err.message == "sc.add: operand #1 is missing from its value's use list (IR changed without updating uses)"


def test_broken_links_are_reported():
    module = traced()
    first = module.func().body.first
    first.next.prev = None
    assert "links to its block are broken" in verify_error(module).message


def test_empty_function_body():
    module, _ = func_of()
    assert verify_error(module).message == "function @f: empty block (missing func.return)"


def test_unregistered_operation():
    class Rogue(Operation):
        name = "sc.rogue"

    module, f = func_of(Rogue([], [], {}))
    f.body.append(ReturnOp([], [], {}))
    assert verify_error(module).message == "unknown operation sc.rogue"


def test_op_declared_to_verify_extra_is_called():
    @op("test.positive_dims")
    class PositiveDims(Operation):
        @classmethod
        def infer(cls, types, attrs, values):
            return [SCALAR]

        def verify_extra(self):
            raise VerifyError("test.positive_dims: extra check failed", op=self)

    try:
        o = PositiveDims([], [SCALAR], {})
        module, _ = func_of(o, ret=[o.result])
        assert verify_error(module).message == "test.positive_dims: extra check failed"
    finally:
        from symcomp.ir.opdef import OPS

        del OPS["test.positive_dims"]


def test_wrong_attribute_kind_set_from_python():
    s = Sum([Constant([], [TensorType(float64, (1,))], {"value": np.array([1.0])}).result], [SCALAR], {"axes": 0})
    module, f = func_of(args=())
    f.body.append(s.operands[0].owner)
    f.body.append(s)
    f.body.append(ReturnOp([s.result], [], {}))
    assert verify_error(module).message == "sc.sum: attribute 'axes': expected a list of integers, got 0"


def test_unknown_parameter_attribute_and_bad_kind():
    module = traced()
    module.func().args[0].attributes["sc.donate"] = True
    assert "parameter #0 has unknown attribute 'sc.donate' (known: sc.shared)" in verify_error(module).message
    module = traced()
    module.func().args[0].attributes["sc.shared"] = 3
    assert verify_error(module).message == "@main: parameter #0: attribute 'sc.shared': expected a string, got 3"


def test_fused_body_rules():
    def fused(body_ops, args, operands):
        blk = Block(args)
        for o in body_ops(blk):
            blk.append(o)
        return Fused(operands, [VEC], {"reduce": "", "axes": ()}, [Region([blk])])

    x = new_func("f", [VEC], ["x"])

    def good(blk):
        e = Exp([blk.args[0]], [SCALAR], {})
        return [e, Yield([e.result], [], {})]

    fz = fused(good, [SCALAR], [x.args[0]])
    x.body.append(fz)
    x.body.append(ReturnOp([fz.result], [], {}))
    ir.verify(new_module([x]))

    def non_elementwise(blk):
        s = Sum([blk.args[0]], [SCALAR], {"axes": ()})
        return [s, Yield([s.result], [], {})]

    y = new_func("f", [VEC], ["x"])
    fz = fused(non_elementwise, [SCALAR], [y.args[0]])
    y.body.append(fz)
    y.body.append(ReturnOp([fz.result], [], {}))
    assert "body may only hold rank-0 elementwise operations, got sc.sum" in verify_error(new_module([y])).message

    z = new_func("f", [VEC], ["x"])
    fz = fused(good, [VEC], [z.args[0]])
    z.body.append(fz)
    z.body.append(ReturnOp([fz.result], [], {}))
    assert "body argument #0 must be tensor<f64>, got tensor<?xf64>" in verify_error(new_module([z])).message


def test_assign_rules():
    f = new_func("f", [VEC, VEC], ["x", "w"])
    f.args[1].attributes["sc.shared"] = "w"
    f.body.append(Assign([f.args[1], f.args[0]], [], {}))
    f.body.append(ReturnOp([], [], {}))
    module = new_module([f])
    ir.verify(module)
    f.body.insert_before(Assign([f.args[0], f.args[0]], [], {}), f.body.last)
    assert verify_error(module).message == "sc.assign: the target must be a parameter marked sc.shared"


def test_add_with_mismatched_operands_reports_the_type_rule():
    f = new_func("f", [VEC, TensorType(float64, (3, 2))], ["x", "y"])
    a = Add([f.args[0], f.args[1]], [VEC], {})
    f.body.append(a)
    f.body.append(ReturnOp([a.result], [], {}))
    assert verify_error(new_module([f])).message == "sc.add operands must have equal rank, got ranks [1, 2]"


def test_nested_function_is_rejected():
    outer = new_func("f", [], [])
    outer.body.append(new_func("g", [], []))
    outer.body.append(ReturnOp([], [], {}))
    assert verify_error(new_module([outer])).message == "func.func may only appear at the top level"
