// issue 23 item 8: ValueError from NumPy instead of ParseError
func.func @f() -> (tensor<0x4611686018427387904xf64>) {
  %0 = sc.constant {value = dense<[]>} : tensor<0x4611686018427387904xf64>
  func.return %0
}
