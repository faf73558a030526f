// issue 23 item 8: the error excerpt copied escape sequences to the terminal
func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>) {
  %0 = sc.bogus[31mRED‮ %x : tensor<?xf64>
  func.return %0
}
