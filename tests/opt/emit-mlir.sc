// REQUIRES: mlir-opt-22
// RUN: symcomp-opt %s --emit=mlir | filecheck %s
// RUN: symcomp-opt %s --emit=mlir | mlir-opt-22 --verify-each | filecheck %s --check-prefix=VERIFIED

// Upstream dialects for the real MLIR tools (docs/mlir.md): elementwise ops become
// linalg.generic, products linalg.matmul.

// CHECK: func.func @layer(
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: math.tanh
// VERIFIED: func.func @layer
module {
  func.func @layer(%x: tensor<?x?xf64>, %w: tensor<?x?xf64>) -> (tensor<?x?xf64>) {
    %0 = sc.dot %x, %w : tensor<?x?xf64>
    %1 = sc.tanh %0 : tensor<?x?xf64>
    func.return %1
  }
}
