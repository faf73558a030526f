// RUN: symcomp-opt %s --pass-pipeline='control-flow-sink' | filecheck %s
//
// The product only the then branch uses moves into it; the sum both branches use stays outside.
//
// CHECK-LABEL: func.func @branch
// CHECK:         %[[S:.*]] = sc.sum
// CHECK-NOT:     sc.dot
// CHECK:         sc.if %c, {{.*}}({
// CHECK:         sc.dot
// CHECK:         }, {
// CHECK-NOT:     sc.dot
// CHECK:         })

module {
  func.func @branch(%c: tensor<i8>, %x: tensor<?x?xf64>) -> (tensor<f64>) {
    %p = sc.dot %x, %x : tensor<?x?xf64>
    %ps = sc.sum %p {axes = [0, 1]} : tensor<f64>
    %s = sc.sum %x {axes = [0, 1]} : tensor<f64>
    %r = sc.if %c, %ps, %s : tensor<f64> ({
    ^bb0(%a: tensor<f64>, %b: tensor<f64>):
      %t = sc.add %a, %b : tensor<f64>
      sc.yield %t
    }, {
    ^bb0(%a2: tensor<f64>, %b2: tensor<f64>):
      sc.yield %b2
    })
    func.return %r
  }
}
