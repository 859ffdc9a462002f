# bench/bootstrap: 200 nodes (20 real sshd x 10) bootstrapped concurrently by
# one controller vs one node; prints both times, the ratio and peak RSS.
EXTRA_PROGRAMS += bench/bench_bootstrap
BENCHMARKS += bench/bench_bootstrap
bench_bench_bootstrap_SOURCES = bench/bench_bootstrap.c \
	tests/bootstrap/harness.c tests/bootstrap/harness.h
bench_bench_bootstrap_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) -I$(top_srcdir)/tests
bench_bench_bootstrap_LDADD = src/libcbshell.la $(UV_LIBS)
