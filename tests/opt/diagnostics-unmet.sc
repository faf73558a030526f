// RUN: not symcomp-opt %s --split-input-file --verify-diagnostics 2>&1 | filecheck %s

// Unmet expectations and unexpected errors fail --verify-diagnostics (exit 1).

// CHECK: diagnostics-unmet.sc:[[# @LINE + 3]]: error: expected error on line [[# @LINE + 4]] was not produced: no such error
module {
  func.func @f(%a: tensor<f64>) -> (tensor<f64>) {
    // expected-error @+1 {{no such error}}
    %0 = sc.neg %a : tensor<f64>
    func.return %0
  }
}

// -----

// CHECK: unexpected error: {{.*}}diagnostics-unmet.sc:[[# @LINE + 3]]:10: error: sc.neg: expected 1 operands, got 2
module {
  func.func @f(%a: tensor<f64>) -> (tensor<f64>) {
    %0 = sc.neg %a, %a : tensor<f64>
    func.return %0
  }
}

// -----

// CHECK: diagnostics-unmet.sc:[[# @LINE + 4]]: error: expected error on line [[# @LINE + 5]] was not produced: wrong text
// CHECK: unexpected error: {{.*}}diagnostics-unmet.sc:[[# @LINE + 4]]:10: error: sc.neg: expected 1 operands, got 2
module {
  func.func @f(%a: tensor<f64>) -> (tensor<f64>) {
    // expected-error @+1 {{wrong text}}
    %0 = sc.neg %a, %a : tensor<f64>
    func.return %0
  }
}
