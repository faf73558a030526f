"""What compiled CPU code runs with, imported without LLVM: the executable that plans and makes a
call (:mod:`.executable`, :mod:`.planner`), the OpenMP runtime and thread count
(:mod:`.openmp`), the private single-threaded OpenBLAS every team thread calls
(:mod:`.teamblas`), facts about the host CPU and caches (:mod:`.host`), and the registry of
background work a compile leaves behind (:mod:`.background`)."""
