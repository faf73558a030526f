// RUN: not symcomp-opt %s 2>&1 | filecheck %s

// A file cut short: the error points just after the last token.

// CHECK: truncated.sc:[[# @LINE + 4]]:29: error: expected an attribute value, got end of file
// CHECK-NEXT: %0 = sc.sum %a {axes = [
module {
  func.func @f(%a: tensor<?x3xf64>) -> (tensor<?xf64>) {
    %0 = sc.sum %a {axes = [
