// RUN: symcomp-opt %s --pass-pipeline='cse' | filecheck %s
//
// Identical pure ops on identical operands merge.
//
// CHECK-LABEL: func.func @merge
// CHECK-NEXT:    %[[E:.*]] = sc.exp %x : tensor<?xf64>
// CHECK-NEXT:    %[[M:.*]] = sc.mul %[[E]], %[[E]] : tensor<?xf64>
// CHECK-NEXT:    func.return %[[M]]

module {
  func.func @merge(%x: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.exp %x : tensor<?xf64>
    %1 = sc.exp %x : tensor<?xf64>
    %2 = sc.mul %0, %1 : tensor<?xf64>
    func.return %2
  }
}
