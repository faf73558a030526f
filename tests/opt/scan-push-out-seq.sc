// RUN: symcomp-opt %s --pass-pipeline='scan-push-out-seq' | filecheck %s
//
// x_t @ W, a slice of the sequence times a non-sequence, becomes one product of the whole
// sequence before the loop; the body reads its rows as a new sequence.
//
// CHECK-LABEL: func.func @rows
// CHECK:         %[[XW:.*]] = sc.dot %x, %w : tensor<?x?xf64>
// CHECK:         sc.scan %{{.*}}, %x, %[[XW]], {{.*}}seq_taps = [0, 0], seq_ntaps = [1, 1]
// CHECK-NOT:     sc.dot
// CHECK:         sc.yield

module {
  func.func @rows(%x: tensor<?x?xf64>, %h0: tensor<?xf64>, %w: tensor<?x?xf64>) -> (tensor<?x?xf64>) {
    %n = sc.dim %x {axis = 0} : tensor<i64>
    %init = sc.expand_dims %h0 {axes = [0]} : tensor<1x?xf64>
    %h = sc.scan %n, %x, %init, %w {seq_taps = [0], seq_ntaps = [1], state_taps = [-1], state_ntaps = [1], state_keep = [0]} : tensor<?x?xf64> ({
    ^bb0(%x_t: tensor<?xf64>, %h_prev: tensor<?xf64>, %w_1: tensor<?x?xf64>):
      %p = sc.dot %x_t, %w_1 : tensor<?xf64>
      %s = sc.add %p, %h_prev : tensor<?xf64>
      %t = sc.tanh %s : tensor<?xf64>
      sc.yield %t
    })
    func.return %h
  }
}
