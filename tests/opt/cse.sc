// RUN: symcomp-opt %s --cse | filecheck %s
// RUN: symcomp-opt %s --pass-pipeline=cse | filecheck %s

// Identical pure operations on identical operands are merged, constants
// included (compared by value); ops whose attributes differ are kept.

// CHECK-LABEL: func.func @f(%x: tensor<?xf64>, %y: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>)
// CHECK-NEXT:    %0 = sc.add %x, %y : tensor<?xf64>
// CHECK-NEXT:    %1 = sc.exp %0 : tensor<?xf64>
// CHECK-NEXT:    %2 = sc.constant {value = dense<2.0>} : tensor<1xf64>
// CHECK-NEXT:    %3 = sc.mul %1, %2 : tensor<?xf64>
// CHECK-NEXT:    %4 = sc.add %3, %3 : tensor<?xf64>
// CHECK-NEXT:    %5 = sc.sum %4 {axes = [0]} : tensor<f64>
// CHECK-NEXT:    %6 = sc.expand_dims %5 {axes = [0]} : tensor<1xf64>
// CHECK-NEXT:    %7 = sc.sub %4, %6 : tensor<?xf64>
// CHECK-NEXT:    func.return %4, %7
module {
  func.func @f(%x: tensor<?xf64>, %y: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
    %0 = sc.add %x, %y : tensor<?xf64>
    %1 = sc.add %x, %y : tensor<?xf64>
    %2 = sc.exp %0 : tensor<?xf64>
    %3 = sc.exp %1 : tensor<?xf64>
    %4 = sc.constant {value = dense<2.0>} : tensor<1xf64>
    %5 = sc.constant {value = dense<2.0>} : tensor<1xf64>
    %6 = sc.mul %2, %4 : tensor<?xf64>
    %7 = sc.mul %3, %5 : tensor<?xf64>
    %8 = sc.add %6, %7 : tensor<?xf64>
    %9 = sc.sum %8 {axes = [0]} : tensor<f64>
    %10 = sc.expand_dims %9 {axes = [0]} : tensor<1xf64>
    %11 = sc.sub %8, %10 : tensor<?xf64>
    func.return %8, %11
  }
}
