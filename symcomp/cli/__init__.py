"""Command-line tools: ``symcomp-opt`` (:mod:`symcomp.cli.opt`), symcomp's ``mlir-opt``."""
