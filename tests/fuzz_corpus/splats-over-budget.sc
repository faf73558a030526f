// issue 23 item 5: ten 512 MiB splats in ~1 KB of text (was 5.6 GB, then MemoryError)
func.func @f() -> (tensor<67108864xf64>, tensor<67108864xf64>, tensor<67108864xf64>, tensor<67108864xf64>, tensor<67108864xf64>, tensor<67108864xf64>, tensor<67108864xf64>, tensor<67108864xf64>, tensor<67108864xf64>, tensor<67108864xf64>) {
  %c0 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c1 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c2 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c3 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c4 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c5 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c6 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c7 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c8 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  %c9 = sc.constant {value = dense<1.0>} : tensor<67108864xf64>
  func.return %c0, %c1, %c2, %c3, %c4, %c5, %c6, %c7, %c8, %c9
}
