// RUN: symcomp-opt %s --pass-pipeline='constant-fold{max-elements=10}' | filecheck %s
//
// With max-elements=10, the 64-element exp is not materialized; the 2-element chain folds.
//
// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    sc.constant {value = dense<[2.0, 5.43656365691809]>} : tensor<2xf64>
// CHECK-LABEL: func.func @limit
// CHECK:         %[[E:.*]] = sc.exp %0 : tensor<64xf64>
// CHECK-NEXT:    sc.add %x, %[[E]]

module {
  func.func @chain(%x: tensor<?xf64>) -> (tensor<2xf64>) {
    %0 = sc.constant {value = dense<[0.0, 1.0]>} : tensor<2xf64>
    %1 = sc.exp %0 : tensor<2xf64>
    %2 = sc.constant {value = dense<2.0>} : tensor<1xf64>
    %3 = sc.mul %1, %2 : tensor<2xf64>
    %4 = sc.add %x, %3 : tensor<2xf64>
    func.return %4
  }
  func.func @limit(%x: tensor<?xf64>) -> (tensor<64xf64>) {
    %0 = sc.constant {value = dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0]>} : tensor<64xf64>
    %1 = sc.exp %0 : tensor<64xf64>
    %2 = sc.add %x, %1 : tensor<64xf64>
    func.return %2
  }
}
