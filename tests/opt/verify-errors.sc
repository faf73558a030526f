// RUN: not symcomp-opt %s --split-input-file 2>&1 | filecheck %s

// Well-formed text that breaks a rule of the IR: the verifier (which runs after
// parsing) points at the operation, or at the attribute, with line:col.

// CHECK: verify-errors.sc:[[# @LINE + 3]]:10: error: sc.add: result #0 has type tensor<?xf32>, but the type rule gives tensor<?xf64>
module {
  func.func @type_mismatch(%a: tensor<?xf64>) -> (tensor<?xf32>) {
    %0 = sc.add %a, %a : tensor<?xf32>
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:10: error: sc.add: operands must share one dtype, got f64, f32
module {
  func.func @operand_dtypes(%a: tensor<?xf64>, %b: tensor<?xf32>) -> (tensor<?xf64>) {
    %0 = sc.add %a, %b : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:10: error: sc.sum: axes [2] out of range for a rank-2 operand
module {
  func.func @axis_range(%a: tensor<?x3xf64>) -> (tensor<?xf64>) {
    %0 = sc.sum %a {axes = [2]} : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:10: error: sc.transpose: perm [0, 0] is not a permutation of the 2 axes
module {
  func.func @permutation(%a: tensor<2x3xf64>) -> (tensor<2x2xf64>) {
    %0 = sc.transpose %a {perm = [0, 0]} : tensor<2x2xf64>
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:28: error: sc.sum: attribute 'axes': expected a list of integers, got 'x'
module {
  func.func @attr_kind(%a: tensor<?x3xf64>) -> (tensor<?xf64>) {
    %0 = sc.sum %a {axes = "x"} : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:33: error: sc.sum: unknown attribute 'axis' (known: axes)
module {
  func.func @unknown_attr(%a: tensor<?x3xf64>) -> (tensor<?xf64>) {
    %0 = sc.sum %a {axes = [0], axis = 1} : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:10: error: sc.sum: missing required attribute 'axes'
module {
  func.func @missing_attr(%a: tensor<?x3xf64>) -> (tensor<3xf64>) {
    %0 = sc.sum %a : tensor<3xf64>
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:5: error: func.return must be the last operation of its block
module {
  func.func @misplaced_terminator(%a: tensor<?xf64>) -> (tensor<?xf64>) {
    func.return %a
    %0 = sc.neg %a : tensor<?xf64>
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:10: error: function @missing_terminator: must end with func.return, ends with sc.neg
module {
  func.func @missing_terminator(%a: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.neg %a : tensor<?xf64>
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:5: error: func.return: returns (tensor<?xf64>) but @signature declares results (tensor<?xf32>)
module {
  func.func @signature(%a: tensor<?xf64>) -> (tensor<?xf32>) {
    func.return %a
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:10: error: sc.neg: expected 1 operands, got 2
module {
  func.func @operand_count(%a: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.neg %a, %a : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:5: error: sc.assign: the target must be a parameter marked sc.shared
module {
  func.func @assign_target(%a: tensor<?xf64>) -> () {
    sc.assign %a, %a
    func.return
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 4]]:5: error: sc.assign: shared variable 'w' is updated twice
module {
  func.func @assign_twice(%w: tensor<?xf64> {sc.shared = "w"}) -> () {
    sc.assign %w, %w
    sc.assign %w, %w
    func.return
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 2]]:42: error: unknown parameter attribute 'sc.sharde' (known: sc.shared)
module {
  func.func @arg_attr(%w: tensor<?xf64> {sc.sharde = "w"}) -> () {
    func.return
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 5]]:12: error: sc.mul: operand #1 (%y) is defined outside the region (sc.fused body is isolated from above)
module {
  func.func @isolated(%x: tensor<?xf64>, %y: tensor<f64>) -> (tensor<?xf64>) {
    %0 = sc.fused %x : tensor<?xf64> ({
    ^bb0(%a: tensor<f64>):
      %1 = sc.mul %a, %y : tensor<f64>
      sc.yield %1
    })
    func.return %0
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 5]]:3: error: function @twice is defined twice
module {
  func.func @twice() -> () {
    func.return
  }
  func.func @twice() -> () {
    func.return
  }
}

// -----

// CHECK: verify-errors.sc:[[# @LINE + 3]]:5: error: sc.yield must be the last operation of its block
module {
  func.func @yield_in_func(%a: tensor<f64>) -> () {
    sc.yield %a
    func.return
  }
}
