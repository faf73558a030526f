// RUN: symcomp-opt %s --emit=llvm | filecheck %s --check-prefix=LLVM
// RUN: symcomp-opt %s --cse --emit=asm | filecheck %s --check-prefix=ASM

// The CPU backend's code for each function of the module: LLVM IR (one private
// function per op and the entry `i32 entry(ptr ptrs, ptr ints)`), or the host's
// native assembly after LLVM's optimizations.  sc.shared parameters work.

// The host's target triple and data layout, so that llc or clang can take the dump:
// LLVM: target triple = "{{[a-z0-9_]+}}-{{[a-z0-9_]+}}-{{[a-z0-9_]+}}
// LLVM-NOT: unknown-unknown-unknown
// LLVM: target datalayout = "e-
// LLVM: define internal i32 @"op0_sc_dot"
// LLVM: define i32 @"symcomp_sgd"(ptr %".1", ptr %".2")
// LLVM: define i32 @"symcomp_scale"(ptr %".1", ptr %".2")

// ASM: symcomp_sgd:
// ASM: symcomp_scale:
module {
  func.func @sgd(%x: tensor<?x?xf64>, %W: tensor<?x?xf64> {sc.shared = "W"}) -> (tensor<f64>) {
    %0 = sc.dot %x, %W : tensor<?x?xf64>
    %1 = sc.sum %0 {axes = [0, 1]} : tensor<f64>
    %2 = sc.constant {value = dense<0.5>} : tensor<1x1xf64>
    %3 = sc.mul %W, %2 : tensor<?x?xf64>
    %4 = sc.sub %W, %3 : tensor<?x?xf64>
    sc.assign %W, %4
    func.return %1
  }
  func.func @scale(%x: tensor<?xf32>) -> (tensor<?xf32>) {
    %0 = sc.constant {value = dense<2.0>} : tensor<1xf32>
    %1 = sc.mul %x, %0 : tensor<?xf32>
    func.return %1
  }
}
