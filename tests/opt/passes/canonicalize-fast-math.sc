// RUN: symcomp-opt %s --pass-pipeline='canonicalize{fast-math=true}' | filecheck %s
//
// Rules that are not exact in IEEE arithmetic apply only with fast-math=true.
//
// CHECK-LABEL: func.func @fast
// CHECK:         %[[N:.*]] = sc.dim %x {axis = 0} : tensor<i64>
// CHECK-NEXT:    %[[Z:.*]] = sc.constant {value = dense<0.0>} : tensor<f64>
// CHECK-NEXT:    %[[ZEROS:.*]] = sc.broadcast_to %[[Z]], %[[N]] {shape = [?]} : tensor<?xf64>
// CHECK-NEXT:    %[[THIRD:.*]] = sc.constant {value = dense<0.3333333333333333>} : tensor<1xf64>
// CHECK-NEXT:    %[[DIV:.*]] = sc.mul %x, %[[THIRD]] : tensor<?xf64>
// CHECK-NEXT:    %[[ROOT:.*]] = sc.sqrt %x : tensor<?xf64>
// CHECK-NEXT:    %[[THREE:.*]] = sc.constant {value = dense<3.0>} : tensor<1xf64>
// CHECK-NEXT:    %[[SUM:.*]] = sc.add %x, %[[THREE]] : tensor<?xf64>
// CHECK-NEXT:    func.return %[[ZEROS]], %[[DIV]], %[[ROOT]], %[[SUM]]

module {
  func.func @fast(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>) {
    %0 = sc.constant {value = dense<0.0>} : tensor<1xf64>
    %1 = sc.mul %x, %0 : tensor<?xf64>
    %2 = sc.constant {value = dense<3.0>} : tensor<1xf64>
    %3 = sc.div %x, %2 : tensor<?xf64>
    %4 = sc.constant {value = dense<0.5>} : tensor<1xf64>
    %5 = sc.pow %x, %4 : tensor<?xf64>
    %6 = sc.constant {value = dense<1.0>} : tensor<1xf64>
    %7 = sc.add %x, %6 : tensor<?xf64>
    %8 = sc.constant {value = dense<2.0>} : tensor<1xf64>
    %9 = sc.add %7, %8 : tensor<?xf64>
    func.return %1, %3, %5, %9
  }
}
