// RUN: symcomp-opt %s --pass-pipeline='dce' | filecheck %s
//
// Unused pure ops go; the shared-variable update stays.
//
// CHECK-LABEL: func.func @dead
// CHECK-NOT:     sc.exp
// CHECK-NOT:     sc.tanh
// CHECK:         %[[U:.*]] = sc.add %w, %x : tensor<?xf64>
// CHECK-NEXT:    sc.assign %w, %[[U]]

module {
  func.func @dead(%x: tensor<?xf64>, %w: tensor<?xf64> {sc.shared = "w"}) -> (tensor<?xf64>) {
    %0 = sc.constant {value = dense<2.0>} : tensor<1xf64>
    %1 = sc.mul %x, %0 : tensor<?xf64>
    %2 = sc.exp %x : tensor<?xf64>
    %3 = sc.tanh %2 : tensor<?xf64>
    %4 = sc.add %w, %x : tensor<?xf64>
    sc.assign %w, %4
    func.return %1
  }
}
