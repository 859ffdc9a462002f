# tests/daemon: the daemon's own modules (metrics) and, as scripts, the daemon.
check_PROGRAMS += tests/test_metrics
TESTS += tests/test_metrics
tests_test_metrics_SOURCES = tests/test_metrics.c
tests_test_metrics_CFLAGS = $(TESTS_CHECK_CFLAGS) $(UV_CFLAGS)
tests_test_metrics_LDADD = src/libcbshell.la $(TESTS_CHECK_LIBS) $(UV_LIBS)

# The daemon itself, against a stand-in pool and the loader's test driver.
TESTS += tests/daemon/cli.sh tests/daemon/cycle.sh tests/daemon/signals.sh tests/daemon/admin.sh \
	tests/daemon/slowcloud.sh
EXTRA_DIST += tests/daemon/lib.sh tests/daemon/cli.sh tests/daemon/cycle.sh \
	tests/daemon/signals.sh tests/daemon/admin.sh tests/daemon/slowcloud.sh tests/e2e/fake_pool.py
