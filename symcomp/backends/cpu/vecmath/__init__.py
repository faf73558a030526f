"""The vector math library of the CPU backend: SIMD exp, expm1, tanh (:mod:`.exp`), log and
log1p (:mod:`.log`), sin and cos (:mod:`.trig`), erf and erfc (:mod:`.erf`) emitted inline as
LLVM IR, and the calls to libm, glibc's libmvec and LLVM intrinsics for the rest
(:mod:`.libcalls`, which chooses between inline code and a call)."""
