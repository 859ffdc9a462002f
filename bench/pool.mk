# bench/pool: benchmark rules for this area
# Parse + aggregate 1M idle jobs from condor_q -af:t (the adapter's format) and
# from -json -attributes (for the comparison): time and peak RSS of each.
EXTRA_PROGRAMS += bench/bench_pool
BENCHMARKS += bench/bench_pool
bench_bench_pool_SOURCES = bench/bench_pool.c
bench_bench_pool_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
bench_bench_pool_LDADD = src/libcbshell.la $(JSONC_LIBS)
