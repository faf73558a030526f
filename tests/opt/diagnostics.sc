// RUN: symcomp-opt %s --split-input-file --verify-diagnostics
// RUN: not symcomp-opt %s --split-input-file 2>&1 | filecheck %s --check-prefix=ERR

// --verify-diagnostics: each chunk's error must be the one its expected-error
// comment announces (on that line, or @+N / @-N / @above / @below).

// ERR: diagnostics.sc:[[# @LINE + 4]]:10: error: unknown operation 'sc.bogus'
module {
  func.func @f(%a: tensor<f64>) -> (tensor<f64>) {
    // expected-error @+1 {{unknown operation 'sc.bogus'}}
    %0 = sc.bogus %a : tensor<f64>
    func.return %0
  }
}

// -----

module {
  func.func @f(%a: tensor<?xf64>) -> (tensor<?xi64>) {
    %0 = sc.neg %a : tensor<?xi64>
    // expected-error @above {{sc.neg: result #0 has type tensor<?xi64>, but the type rule gives tensor<?xf64>}}
    func.return %0
  }
}

// -----

module {
  func.func @f(%a: tensor<?x2xf64>) -> (tensor<?xf64>) {
    %0 = sc.max %a {axes = [-1]} : tensor<?xf64> // expected-error {{axes [-1] out of range}}
    func.return %0
  }
}

// -----

module {
  func.func @f(%a: tensor<f64>) -> (tensor<f64>) {
    // expected-error @below {{use of undefined value %b}}
    %0 = sc.mul %a, %b : tensor<f64>
    func.return %0
  }
}

// -----

// A valid chunk with no expectation.
module {
  func.func @ok(%a: tensor<f64>) -> (tensor<f64>) {
    func.return %a
  }
}
