# bench/sim: simulator throughput on a 1M-job trace (the LCG trace repeated),
# per policy, with CPU and wall time and peak RSS. Built and run by `make bench`.
EXTRA_PROGRAMS += bench/bench_sim
BENCHMARKS += bench/bench_sim
bench_bench_sim_SOURCES = bench/bench_sim.c
bench_bench_sim_CPPFLAGS = $(AM_CPPFLAGS) -DCB_TOP_SRCDIR='"$(abs_top_srcdir)"'
bench_bench_sim_LDADD = src/sim/libcbsim.la
