// RUN: symcomp-opt %s --pass-pipeline='stabilize,canonicalize,dce' | filecheck %s
//
// Numerically unstable forms become stable ones.
//
// CHECK-LABEL: func.func @log1p
// CHECK-NEXT:    %[[R:.*]] = sc.log1p %x : tensor<?xf64>
// CHECK-NEXT:    func.return %[[R]]
// CHECK-LABEL: func.func @softplus
// CHECK-NEXT:    %[[R:.*]] = sc.softplus %x : tensor<?xf64>
// CHECK-NEXT:    func.return %[[R]]
// CHECK-LABEL: func.func @log_sigmoid
// CHECK-NEXT:    %[[N:.*]] = sc.neg %x : tensor<?xf64>
// CHECK-NEXT:    %[[S:.*]] = sc.softplus %[[N]] : tensor<?xf64>
// CHECK-NEXT:    %[[R:.*]] = sc.neg %[[S]] : tensor<?xf64>
// CHECK-NEXT:    func.return %[[R]]
// CHECK-LABEL: func.func @crossentropy
// CHECK-NOT:     sc.softmax
// CHECK:         %[[LS:.*]] = sc.log_softmax %m {axis = 1} : tensor<?x?xf64>
// CHECK-NEXT:    %[[SEL:.*]] = sc.advanced_subtensor %[[LS]], %{{.*}}, %y : tensor<?xf64>
// CHECK-NEXT:    sc.neg %[[SEL]]
// CHECK-LABEL: func.func @logsumexp
// CHECK-NEXT:    %[[MAX:.*]] = sc.fused %m {reduce = "max", axes = [1]} : tensor<?xf64> ({
// CHECK:         %[[INF:.*]] = sc.isinf %[[MAX]]
// CHECK-NEXT:    %[[M:.*]] = sc.select %[[INF]], %{{.*}}, %[[MAX]] : tensor<?xf64>
// CHECK-NEXT:    %[[MB:.*]] = sc.expand_dims %[[M]] {axes = [1]} : tensor<?x1xf64>
// CHECK-NEXT:    %[[D:.*]] = sc.sub %m, %[[MB]] : tensor<?x?xf64>
// CHECK-NEXT:    %[[E:.*]] = sc.exp %[[D]] : tensor<?x?xf64>
// CHECK-NEXT:    %[[S:.*]] = sc.fused %[[E]] {reduce = "add", axes = [1]} : tensor<?xf64> ({
// CHECK:         %[[L:.*]] = sc.log %[[S]] : tensor<?xf64>
// CHECK-NEXT:    %[[R:.*]] = sc.add %[[L]], %[[M]] : tensor<?xf64>
// CHECK-NEXT:    func.return %[[R]]

module {
  func.func @log1p(%x: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.constant {value = dense<1.0>} : tensor<1xf64>
    %1 = sc.add %0, %x : tensor<?xf64>
    %2 = sc.log %1 : tensor<?xf64>
    func.return %2
  }
  func.func @softplus(%x: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.constant {value = dense<1.0>} : tensor<1xf64>
    %1 = sc.exp %x : tensor<?xf64>
    %2 = sc.add %0, %1 : tensor<?xf64>
    %3 = sc.log %2 : tensor<?xf64>
    func.return %3
  }
  func.func @log_sigmoid(%x: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.sigmoid %x : tensor<?xf64>
    %1 = sc.log %0 : tensor<?xf64>
    func.return %1
  }
  func.func @crossentropy(%m: tensor<?x?xf64>, %y: tensor<?xi64>) -> (tensor<?xf64>) {
    %0 = sc.softmax %m {axis = 1} : tensor<?x?xf64>
    %1 = sc.constant {value = dense<0>} : tensor<i64>
    %2 = sc.dim %y {axis = 0} : tensor<i64>
    %3 = sc.constant {value = dense<1>} : tensor<i64>
    %4 = sc.arange %1, %2, %3 : tensor<?xi64>
    %5 = sc.advanced_subtensor %0, %4, %y : tensor<?xf64>
    %6 = sc.log %5 : tensor<?xf64>
    %7 = sc.neg %6 : tensor<?xf64>
    func.return %7
  }
  func.func @logsumexp(%m: tensor<?x?xf64>) -> (tensor<?xf64>) {
    %0 = sc.exp %m : tensor<?x?xf64>
    %1 = sc.sum %0 {axes = [1]} : tensor<?xf64>
    %2 = sc.log %1 : tensor<?xf64>
    func.return %2
  }
}
