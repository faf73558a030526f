// issue 23 item 5: --emit=llvm wrote 1.48 GB, --emit=obj a 537 MB object
func.func @f(%x: tensor<67108864xf64>) -> (tensor<67108864xf64>) {
  %0 = sc.constant {value = dense<1.5>} : tensor<67108864xf64>
  %1 = sc.add %x, %0 : tensor<67108864xf64>
  func.return %1
}
