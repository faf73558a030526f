// issue 23 item 6: UnicodeEncodeError from llvmlite, KeyError for a NUL
func.func @"função"(%x: tensor<?xf64>) -> (tensor<?xf64>) {
  %0 = sc.exp %x : tensor<?xf64>
  func.return %0
}
func.func @"a\u0000b"(%x: tensor<?xf64>) -> (tensor<?xf64>) {
  %0 = sc.neg %x : tensor<?xf64>
  func.return %0
}
