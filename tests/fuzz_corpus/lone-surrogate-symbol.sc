// issue 23 item 8: symcomp-opt printed a UnicodeEncodeError traceback
func.func @"\ud800x"(%x: tensor<?xf64>) -> (tensor<?xf64>) {
  %0 = sc.exp %x : tensor<?xf64>
  func.return %0
}
