// RUN: not symcomp-opt %s --pass-pipeline=cse,bogus 2>&1 | filecheck %s --check-prefix=PASS
// RUN: not symcomp-opt %s --pass-pipeline='cse{nope=1}' 2>&1 | filecheck %s --check-prefix=OPT
// RUN: not symcomp-opt %s --cse --pass-pipeline=dce 2>&1 | filecheck %s --check-prefix=BOTH
// RUN: not symcomp-opt %s --print-ir-after=bogus 2>&1 | filecheck %s --check-prefix=PRINT
// RUN: not symcomp-opt %s.missing 2>&1 | filecheck %s --check-prefix=MISSING

// Bad usage is reported on stderr (exit status 2, checked in tests/test_cli_opt.py).

// PASS:    symcomp-opt: error: unknown pass 'bogus' (known: {{.*}}cse{{.*}}) at column 5 of the pipeline:
// PASS-NEXT: cse,bogus
// PASS-NEXT: ^
// OPT:     symcomp-opt: error: pass cse has no option 'nope' (options: none)
// BOTH:    symcomp-opt: error: give passes with --pass-pipeline or as --NAME flags, not both
// PRINT:   symcomp-opt: error: cannot print IR around unknown pass 'bogus'
// MISSING: symcomp-opt: error: cannot read {{.*}}usage.sc.missing: No such file or directory
module {
}
