# bench/core: decision time and peak RSS of cb_core_decide() for 10k/100k/1M
# idle jobs (few shapes and one shape per job) against 1k/10k nodes.
EXTRA_PROGRAMS += bench/bench_core
BENCHMARKS += bench/bench_core
bench_bench_core_SOURCES = bench/bench_core.c
bench_bench_core_LDADD = src/core/libcbcore.la src/libcbcommon.la
