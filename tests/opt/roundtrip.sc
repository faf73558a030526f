// RUN: symcomp-opt %s | filecheck %s
// RUN: symcomp-opt %s > %t
// RUN: symcomp-opt %t | diff %t -

// The printer's output parses back to the same text (with comments gone and
// names kept); every kind of attribute, a region and a quoted function name.
// CHECK:      module {
// CHECK-NEXT: func.func @"train step"(%x: tensor<?x?xf64>, %i: tensor<i64>, %W: tensor<?x?xf64> {sc.shared = "W"}) -> (tensor<?xf64>, tensor<2x2xi1>, tensor<?x?xf64>) {
// CHECK-NEXT: %0 = sc.subtensor %x, %i {index = ["?", "1:-1:2"]} : tensor<?xf64>
// CHECK-NEXT: %1 = sc.constant {value = dense<{{\[\[true, false\], \[false, true\]\]}}>} : tensor<2x2xi1>
// CHECK-NEXT: %2 = sc.cast %i {dtype = f64} : tensor<f64>
// CHECK-NEXT: %3 = sc.dim %x {axis = 0} : tensor<i64>
// CHECK-NEXT: %4 = sc.reshape %0, %3 {shape = [?, -1]} : tensor<?x?xf64>
// CHECK-NEXT: %5 = sc.fused %x, %W {reduce = "add", axes = [1]} : tensor<?xf64> ({
// CHECK-NEXT: ^bb0(%a: tensor<f64>, %b: tensor<f64>):
// CHECK-NEXT: %6 = sc.constant {value = dense<-0.5>} : tensor<f64>
// CHECK-NEXT: %7 = sc.mul %a, %b : tensor<f64>
// CHECK-NEXT: %8 = sc.add %7, %6 : tensor<f64>
// CHECK-NEXT: sc.yield %8
// CHECK-NEXT: })
// CHECK-NEXT: %9 = sc.add %W, %W : tensor<?x?xf64>
// CHECK-NEXT: sc.assign %W, %9
// CHECK-NEXT: func.return %5, %1, %4
// CHECK-NEXT: }
// CHECK-NEXT: }
module {
  func.func @"train step"(%x: tensor<?x?xf64>, %i: tensor<i64>, %W: tensor<?x?xf64> {sc.shared = "W"}) -> (tensor<?xf64>, tensor<2x2xi1>, tensor<?x?xf64>) {   // comment
    %0 = sc.subtensor %x, %i {index = ["?", "1:-1:2"]} : tensor<?xf64>
    %1 = sc.constant {value = dense<[[true, false], [false, true]]>} : tensor<2x2xi1>
    %2 = sc.cast %i {dtype = f64} : tensor<f64>
    %3 = sc.dim %x {axis = 0} : tensor<i64>
    %4 = sc.reshape %0, %3 {shape = [?, -1]} : tensor<?x?xf64>
    %5 = sc.fused %x, %W {reduce = "add", axes = [1]} : tensor<?xf64> ({
    ^bb0(%a: tensor<f64>, %b: tensor<f64>):
      %6 = sc.constant {value = dense<-0.5>} : tensor<f64>
      %7 = sc.mul %a, %b : tensor<f64>
      %8 = sc.add %7, %6 : tensor<f64>
      sc.yield %8
    })
    %9 = sc.add %W, %W : tensor<?x?xf64>
    sc.assign %W, %9
    func.return %5, %1, %4
  }
}
