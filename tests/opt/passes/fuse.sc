// RUN: symcomp-opt %s --pass-pipeline='canonicalize,fuse' | filecheck %s
//
// Elementwise chains (and the reduction they feed) become one sc.fused loop nest; a
// producer whose result is also used outside the group stays outside it.
//
// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    %[[F:.*]] = sc.fused %x, %y, %z : tensor<?xf64> ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<f64>, %[[Y:.*]]: tensor<f64>, %[[Z:.*]]: tensor<f64>):
// CHECK:           sc.constant {value = dense<0.5>} : tensor<f64>
// CHECK:           sc.exp
// CHECK:           sc.sin %[[Y]] : tensor<f64>
// CHECK:           sc.log1p %[[Z]] : tensor<f64>
// CHECK:           sc.yield
// CHECK-NEXT:    })
// CHECK-NEXT:    func.return %[[F]]
// CHECK-LABEL: func.func @sum_exp
// CHECK-NEXT:    sc.fused %m {reduce = "add", axes = [1]} : tensor<?xf64> ({
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<f64>):
// CHECK-NEXT:      %[[E:.*]] = sc.exp %[[A]] : tensor<f64>
// CHECK-NEXT:      sc.yield %[[E]]
// CHECK-LABEL: func.func @producer_used_inside
// CHECK-NEXT:    sc.fused %x : tensor<?xf64> ({
// CHECK-LABEL: func.func @producer_used_outside
// CHECK-NEXT:    %[[E:.*]] = sc.exp %x : tensor<?xf64>
// CHECK-NEXT:    %[[F:.*]] = sc.fused %[[E]] : tensor<?xf64> ({
// CHECK-NOT:       sc.exp
// CHECK:         func.return %[[F]], %[[E]]

module {
  func.func @chain(%x: tensor<?xf64>, %y: tensor<?xf64>, %z: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.neg %x : tensor<?xf64>
    %1 = sc.mul %0, %x : tensor<?xf64>
    %2 = sc.constant {value = dense<2.0>} : tensor<1xf64>
    %3 = sc.div %1, %2 : tensor<?xf64>
    %4 = sc.exp %3 : tensor<?xf64>
    %5 = sc.sin %y : tensor<?xf64>
    %6 = sc.mul %4, %5 : tensor<?xf64>
    %7 = sc.log1p %z : tensor<?xf64>
    %8 = sc.add %6, %7 : tensor<?xf64>
    func.return %8
  }
  func.func @sum_exp(%m: tensor<?x?xf64>) -> (tensor<?xf64>) {
    %0 = sc.exp %m : tensor<?x?xf64>
    %1 = sc.sum %0 {axes = [1]} : tensor<?xf64>
    func.return %1
  }
  func.func @producer_used_inside(%x: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.exp %x : tensor<?xf64>
    %1 = sc.sin %0 : tensor<?xf64>
    %2 = sc.add %1, %0 : tensor<?xf64>
    func.return %2
  }
  func.func @producer_used_outside(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
    %0 = sc.exp %x : tensor<?xf64>
    %1 = sc.sin %0 : tensor<?xf64>
    %2 = sc.constant {value = dense<2.0>} : tensor<1xf64>
    %3 = sc.mul %1, %2 : tensor<?xf64>
    func.return %3, %0
  }
}
