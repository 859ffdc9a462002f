# tests/bootstrap: the SSH bootstrapper against real sshd instances on
# loopback (tests/bootstrap/harness.c), the renderer and cloud-init user-data
# (validated with Debian's cloud-init), and the host-key parser's fuzz replay.
check_PROGRAMS += tests/test_bootstrap tests/test_bootstrap_render
TESTS += tests/test_bootstrap tests/test_bootstrap_render
tests_test_bootstrap_SOURCES = tests/test_bootstrap.c \
	tests/bootstrap/harness.c tests/bootstrap/harness.h
tests_test_bootstrap_CFLAGS = $(TESTS_CHECK_CFLAGS) $(UV_CFLAGS) $(SSH2_CFLAGS) -I$(top_srcdir)/tests
tests_test_bootstrap_LDADD = src/libcbshell.la $(TESTS_CHECK_LIBS) $(UV_LIBS)
tests_test_bootstrap_render_SOURCES = tests/test_bootstrap_render.c
tests_test_bootstrap_render_CFLAGS = $(TESTS_CHECK_CFLAGS) $(UV_CFLAGS)
tests_test_bootstrap_render_LDADD = src/libcbshell.la $(TESTS_CHECK_LIBS) $(UV_LIBS) $(CRYPTO_LIBS)

# Stand-ins for HTCondor/CVMFS tools on the test nodes (not in Debian).
EXTRA_DIST += tests/bootstrap/standins

# Host-key parser: fuzz target, replayed over the case files under ASan.
check_PROGRAMS += tests/bootstrap/fuzz_hostkeys
tests_bootstrap_fuzz_hostkeys_SOURCES = tests/bootstrap/fuzz_hostkeys.c tests/fuzz/fuzz_main.c
tests_bootstrap_fuzz_hostkeys_LDADD = src/libcbshell.la
TESTS += tests/bootstrap/fuzz-replay.sh
EXTRA_DIST += tests/bootstrap/fuzz-replay.sh

# The node side of the controller lease (images/cloudburst-lease-check) as the
# startd cron job runs it, with HTCondor stand-ins.
TESTS += tests/bootstrap/lease.sh
EXTRA_DIST += tests/bootstrap/lease.sh

# Every shell script of the bootstrap area passes shellcheck.
TESTS += tests/bootstrap/shellcheck.sh
EXTRA_DIST += tests/bootstrap/shellcheck.sh
