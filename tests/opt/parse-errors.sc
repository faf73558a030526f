// RUN: not symcomp-opt %s --split-input-file 2>&1 | filecheck %s

// Malformed text: each chunk gives one error with file:line:col, the line and a caret.

// CHECK: parse-errors.sc:[[# @LINE + 5]]:10: error: unknown operation 'sc.addd' (did you mean 'sc.add'?)
// CHECK-NEXT: %0 = sc.addd %a, %a : tensor<?xf64>
// CHECK-NEXT: ^
module {
  func.func @unknown_op(%a: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.addd %a, %a : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 4]]:21: error: use of undefined value %b
// CHECK-NEXT: %0 = sc.add %a, %b : tensor<?xf64>
module {
  func.func @undefined(%a: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.add %a, %b : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 4]]:5: error: redefinition of value %0 (first defined at [[# @LINE + 3]]:5)
module {
  func.func @redefinition(%a: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.neg %a : tensor<?xf64>
    %0 = sc.neg %a : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 2]]:36: error: unknown element type 'f16' (expected one of i1, i8, i16, i32, i64, ui8, ui16, ui32, ui64, f32, f64)
module {
  func.func @bad_type(%a: tensor<?xf16>) -> (tensor<?xf16>) {
    func.return %a
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 2]]:31: error: expected ':' and the parameter's type, got '%b'
module {
  func.func @missing_colon(%a %b: tensor<f64>) -> () {
    func.return
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 3]]:41: error: integer 300 does not fit in i8
module {
  func.func @dense_range() -> (tensor<2xi8>) {
    %0 = sc.constant {value = dense<[1, 300]>} : tensor<2xi8>
    func.return %0
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 3]]:31: error: dense<...> has shape (3,) but the result type is tensor<2xf64>
module {
  func.func @dense_shape() -> (tensor<2xf64>) {
    %0 = sc.constant {value = dense<[1.0, 2.0, 3.0]>} : tensor<2xf64>
    func.return %0
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 3]]:28: error: expected an attribute value, got '}'
module {
  func.func @bad_attr_syntax(%a: tensor<?x3xf64>) -> (tensor<?xf64>) {
    %0 = sc.sum %a {axes = } : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 3]]:10: error: expected ':' and 1 result type(s) after 'sc.neg'
module {
  func.func @missing_type(%a: tensor<f64>) -> (tensor<f64>) {
    %0 = sc.neg %a
    func.return %0
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 3]]:36: error: unterminated string literal
module {
  func.func @string(%a: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.subtensor %a {index = ["1:} : tensor<?xf64>
    func.return %0
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 3]]:5: error: 'func.func' may only appear at the top level
module {
  func.func @nested() -> () {
    func.func @inner() -> () {
    }
    func.return
  }
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 4]]:3: error: expected end of file after the module, got 'module'
module {
}

  module {
}

// -----

// CHECK: parse-errors.sc:[[# @LINE + 2]]:19: error: unexpected character '#'
module {
  func.func @hash(#a: tensor<f64>) -> () {
    func.return
  }
}
