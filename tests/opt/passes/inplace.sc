// RUN: symcomp-opt %s --pass-pipeline='inplace' | filecheck %s
//
// A result may overwrite a dead temporary, or the shared variable it updates; never a
// user's input, never a value read later.
//
// CHECK-LABEL: func.func @temporaries
// CHECK-NEXT:    %[[E:.*]] = sc.exp %x : tensor<?xf64>
// CHECK-NEXT:    sc.tanh %[[E]] {sc.inplace = 0} : tensor<?xf64>
// CHECK-LABEL: func.func @read_later
// CHECK-NOT:     sc.inplace
// CHECK-LABEL: func.func @update
// CHECK:         %[[U:.*]] = sc.sub %w, %{{.*}} {sc.inplace = 0} : tensor<?xf64>
// CHECK-NEXT:    sc.assign %w, %[[U]]

module {
  func.func @temporaries(%x: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.exp %x : tensor<?xf64>
    %1 = sc.tanh %0 : tensor<?xf64>
    func.return %1
  }
  func.func @read_later(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
    %0 = sc.exp %x : tensor<?xf64>
    %1 = sc.tanh %0 : tensor<?xf64>
    func.return %1, %0
  }
  func.func @update(%x: tensor<?xf64>, %w: tensor<?xf64> {sc.shared = "w"}) -> () {
    %0 = sc.constant {value = dense<0.5>} : tensor<1xf64>
    %1 = sc.mul %0, %x : tensor<?xf64>
    %2 = sc.sub %w, %1 : tensor<?xf64>
    sc.assign %w, %2
    func.return
  }
}
