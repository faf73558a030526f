// RUN: not symcomp-opt %s 2>&1 | filecheck %s

// CHECK: truncated-body.sc:[[# @LINE + 3]]:48: error: unexpected end of file: the body of @f opened at [[# @LINE + 2]]:56 is not closed with '}'
module {
  func.func @f(%a: tensor<?x3xf64>) -> (tensor<?xf64>) {
    %0 = sc.sum %a {axes = [1]} : tensor<?xf64>
