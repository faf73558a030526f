// RUN: symcomp-opt %s --pass-pipeline=cse,dce --print-ir-after-all 2>&1 >/dev/null | filecheck %s --check-prefix=AFTER
// RUN: symcomp-opt %s --cse --dce --print-ir-before=dce --print-ir-after=cse 2>&1 >/dev/null | filecheck %s --check-prefix=NAMED
// RUN: symcomp-opt %s --pass-pipeline='builtin.module(cse, dce)' --timing 2>&1 >/dev/null | filecheck %s --check-prefix=TIMING
// RUN: symcomp-opt %s --pass-pipeline=cse,dce | filecheck %s --check-prefix=OUT

// Instrumentation: IR dumps around passes (to stderr), the timing table.

// AFTER:      // -----// IR Dump After cse //----- //
// AFTER-NEXT: module {
// AFTER:        %0 = sc.exp %x : tensor<?xf64>
// AFTER-NEXT:   %1 = sc.log %0 : tensor<?xf64>
// AFTER-NEXT:   %2 = sc.add %x, %x : tensor<?xf64>
// AFTER-NEXT:   func.return %2, %2
// AFTER:      // -----// IR Dump After dce //----- //
// AFTER-NEXT: module {
// AFTER-NEXT:   func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
// AFTER-NEXT:     %0 = sc.add %x, %x : tensor<?xf64>
// AFTER-NEXT:     func.return %0, %0

// NAMED-NOT:  IR Dump Before cse
// NAMED:      // -----// IR Dump After cse //----- //
// NAMED:      // -----// IR Dump Before dce //----- //
// NAMED-NOT:  IR Dump After dce

// TIMING:      ... Execution time report ...
// TIMING:      Total Execution Time: {{[0-9.]+}} seconds
// TIMING:      ----Wall Time----  ----Name----
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  Parser
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  cse
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  Verifier
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  dce
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  Output
// TIMING-NEXT: {{[0-9.]+}} (100.0%)  Total

// OUT:      func.func @f
// OUT-NEXT:   %0 = sc.add %x, %x : tensor<?xf64>
// OUT-NEXT:   func.return %0, %0
module {
  func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
    %0 = sc.exp %x : tensor<?xf64>
    %1 = sc.log %0 : tensor<?xf64>
    %2 = sc.add %x, %x : tensor<?xf64>
    %3 = sc.add %x, %x : tensor<?xf64>
    func.return %2, %3
  }
}
