// RUN: symcomp-opt %s --pass-pipeline='scan-licm' | filecheck %s --check-prefix=LICM
// RUN: symcomp-opt %s --pass-pipeline='scan-drop-unused,dce' | filecheck %s --check-prefix=DROP
// RUN: symcomp-opt %s --pass-pipeline='scan-save-memory' | filecheck %s --check-prefix=SAVE
//
// scan-licm: exp(w) depends on the non-sequence only: it is computed once, before the loop.
// LICM-LABEL: func.func @loop
// LICM:         %[[E:.*]] = sc.exp %w : tensor<?xf64>
// LICM-NEXT:    sc.scan {{.*}}, %[[E]]
// LICM-NOT:     sc.exp
// LICM:         sc.yield
//
// scan-drop-unused: the per-step output %y is never read: the loop stops computing it.
// DROP-LABEL: func.func @loop
// DROP:         sc.scan {{.*}}state_keep = [0]} : tensor<?x?xf64> ({
// DROP-NOT:     sc.tanh
// DROP:         sc.yield %{{[0-9a-z_]+}}{{$}}
//
// scan-save-memory: only the last row of the history is read: the state keeps its final value.
// SAVE-LABEL: func.func @loop
// SAVE:         sc.scan {{.*}}state_keep = [1]{{.*}} : tensor<?xf64>, tensor<?x?xf64> ({
// SAVE:         func.return %{{[0-9]+}}

module {
  func.func @loop(%x: tensor<?x?xf64>, %h0: tensor<?xf64>, %w: tensor<?xf64>) -> (tensor<?xf64>) {
    %n = sc.dim %x {axis = 0} : tensor<i64>
    %init = sc.expand_dims %h0 {axes = [0]} : tensor<1x?xf64>
    %h, %y = sc.scan %n, %x, %init, %w {seq_taps = [0], seq_ntaps = [1], state_taps = [-1], state_ntaps = [1], state_keep = [0], n_nitsot = 1} : tensor<?x?xf64>, tensor<?x?xf64> ({
    ^bb0(%x_t: tensor<?xf64>, %h_prev: tensor<?xf64>, %w_1: tensor<?xf64>):
      %e = sc.exp %w_1 : tensor<?xf64>
      %m = sc.mul %h_prev, %e : tensor<?xf64>
      %s = sc.add %m, %x_t : tensor<?xf64>
      %t = sc.tanh %s : tensor<?xf64>
      sc.yield %s, %t
    })
    %rows = sc.subtensor %h {index = ["1:"]} : tensor<?x?xf64>
    %last = sc.subtensor %rows {index = ["-1"]} : tensor<?xf64>
    func.return %last
  }
}
