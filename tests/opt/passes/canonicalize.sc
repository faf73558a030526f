// RUN: symcomp-opt %s --pass-pipeline='canonicalize' | filecheck %s
//
// Exact IEEE simplifications only: x + 0.0 stays (it is +0.0 for x = -0.0), x + -0.0 goes;
// division by a power of two becomes a multiplication, by 3 it does not; x**2 is x*x but
// x**0.5 stays pow (pow(-0.0, 0.5) = 0.0, sqrt(-0.0) = -0.0).
//
// CHECK-LABEL: func.func @mul_one
// CHECK-NEXT:    func.return %x
// CHECK-LABEL: func.func @signed_zero
// CHECK:         %[[ZERO:.*]] = sc.constant {value = dense<0.0>} : tensor<1xf64>
// CHECK-NEXT:    %[[SUM:.*]] = sc.add %x, %[[ZERO]] : tensor<?xf64>
// CHECK-NEXT:    func.return %[[SUM]], %x
// CHECK-LABEL: func.func @div_pow2
// CHECK:         %[[Q:.*]] = sc.constant {value = dense<0.25>} : tensor<1xf64>
// CHECK-NEXT:    sc.mul %x, %[[Q]]
// CHECK:         sc.div %x
// CHECK-LABEL: func.func @pow
// CHECK-NEXT:    %[[SQ:.*]] = sc.mul %x, %x : tensor<?xf64>
// CHECK:         %[[P:.*]] = sc.pow %x
// CHECK-NEXT:    func.return %[[SQ]], %[[P]]
// CHECK-LABEL: func.func @neg_neg
// CHECK-NEXT:    %[[D:.*]] = sc.sub %x, %y : tensor<?xf64>
// CHECK-NEXT:    func.return %[[D]]
// CHECK-LABEL: func.func @transposes
// CHECK-NEXT:    func.return %m

module {
  func.func @mul_one(%x: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.constant {value = dense<1.0>} : tensor<1xf64>
    %1 = sc.mul %x, %0 : tensor<?xf64>
    func.return %1
  }
  func.func @signed_zero(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
    %0 = sc.constant {value = dense<0.0>} : tensor<1xf64>
    %1 = sc.add %x, %0 : tensor<?xf64>
    %2 = sc.constant {value = dense<-0.0>} : tensor<1xf64>
    %3 = sc.add %x, %2 : tensor<?xf64>
    func.return %1, %3
  }
  func.func @div_pow2(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
    %0 = sc.constant {value = dense<4.0>} : tensor<1xf64>
    %1 = sc.div %x, %0 : tensor<?xf64>
    %2 = sc.constant {value = dense<3.0>} : tensor<1xf64>
    %3 = sc.div %x, %2 : tensor<?xf64>
    func.return %1, %3
  }
  func.func @pow(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
    %0 = sc.constant {value = dense<2.0>} : tensor<1xf64>
    %1 = sc.pow %x, %0 : tensor<?xf64>
    %2 = sc.constant {value = dense<0.5>} : tensor<1xf64>
    %3 = sc.pow %x, %2 : tensor<?xf64>
    func.return %1, %3
  }
  func.func @neg_neg(%x: tensor<?xf64>, %y: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.neg %x : tensor<?xf64>
    %1 = sc.neg %0 : tensor<?xf64>
    %2 = sc.neg %y : tensor<?xf64>
    %3 = sc.add %1, %2 : tensor<?xf64>
    func.return %3
  }
  func.func @transposes(%m: tensor<?x?x?xf64>) -> (tensor<?x?x?xf64>) {
    %0 = sc.transpose %m {perm = [1, 2, 0]} : tensor<?x?x?xf64>
    %1 = sc.transpose %0 {perm = [2, 0, 1]} : tensor<?x?x?xf64>
    func.return %1
  }
}
