"""The performance benchmark of issue 8: ``make bench`` (see README, section Benchmark)."""
