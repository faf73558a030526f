// RUN: symcomp-opt %s --split-input-file --cse | filecheck %s

// Chunks between '// -----' lines are processed on their own; the outputs are
// separated by '// -----' too.

// CHECK:      func.func @first(%a: tensor<f64>) -> (tensor<f64>) {
// CHECK-NEXT:   %0 = sc.neg %a : tensor<f64>
// CHECK-NEXT:   func.return %0
// CHECK:      // -----
// CHECK:      func.func @second(%a: tensor<f64>) -> (tensor<f64>) {
module {
  func.func @first(%a: tensor<f64>) -> (tensor<f64>) {
    %0 = sc.neg %a : tensor<f64>
    %1 = sc.neg %a : tensor<f64>
    func.return %1
  }
}
// -----
func.func @second(%a: tensor<f64>) -> (tensor<f64>) {
  func.return %a
}
