"""The CPU backend's disk cache: object code per compiled function (:mod:`.objects`), and the
same code linked as a shared object that a later process loads without LLVM
(:mod:`.sharedlib`)."""
