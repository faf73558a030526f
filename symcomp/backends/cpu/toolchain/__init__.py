"""From a prepared module to machine code: code generation and LLVM's passes, MCJIT and object
emission (:mod:`.build`, :mod:`.machine`), and tiered compilation, where quick level-0 code runs
until optimized code is ready (:mod:`.tiering`)."""
