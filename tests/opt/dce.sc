// RUN: symcomp-opt %s --dce | filecheck %s

// Unused pure operations are removed, chains of them included; shared-variable
// updates (sc.assign) and what they use are kept.

// CHECK-LABEL: func.func @step
// CHECK-NEXT:    %0 = sc.mul %x, %x : tensor<?xf64>
// CHECK-NEXT:    %1 = sc.sub %w, %0 : tensor<?xf64>
// CHECK-NEXT:    %2 = sc.sum %1 {axes = [0]} : tensor<f64>
// CHECK-NEXT:    sc.assign %w, %1
// CHECK-NEXT:    func.return %2
// CHECK-NOT:     sc.exp
module {
  func.func @step(%x: tensor<?xf64>, %w: tensor<?xf64> {sc.shared = "w"}) -> (tensor<f64>) {
    %0 = sc.exp %x : tensor<?xf64>
    %1 = sc.log %0 : tensor<?xf64>
    %2 = sc.mul %x, %x : tensor<?xf64>
    %3 = sc.sub %w, %2 : tensor<?xf64>
    %4 = sc.sum %3 {axes = [0]} : tensor<f64>
    sc.assign %w, %3
    func.return %4
  }
}
