# tests/ctl: cloudburstctl's output (tables compared with tests/data/ctl/*.case,
# JSON parsed) against a ledger the test builds, plus the binary's exit status.
check_PROGRAMS += tests/test_ctl
TESTS += tests/test_ctl
tests_test_ctl_SOURCES = tests/test_ctl.c
tests_test_ctl_CFLAGS = $(TESTS_CHECK_CFLAGS) $(JSONC_CFLAGS) $(SQLITE_CFLAGS)
tests_test_ctl_LDADD = src/libcbctl.la $(JSONC_LIBS) $(SQLITE_LIBS) $(TESTS_CHECK_LIBS)
# test_binary_runs executes src/cloudburstctl, which `make check` builds first (all-am).

# Fuzz target for the command line and the --since parser; make check replays
# the corpus in tests/data/ctl/fuzz/ (which EXTRA_DIST ships with tests/data).
check_PROGRAMS += tests/ctl/fuzz_ctl_args
tests_ctl_fuzz_ctl_args_SOURCES = tests/ctl/fuzz_ctl_args.c tests/fuzz/fuzz_main.c
tests_ctl_fuzz_ctl_args_LDADD = src/libcbctl.la
TESTS += tests/ctl/fuzz-replay.sh
EXTRA_DIST += tests/ctl/fuzz-replay.sh

# The real cloudburstd consuming cloudburstctl's requests, on the daemon tests'
# stand-in pool (tests/daemon/lib.sh, tests/e2e/fake_pool.py).
TESTS += tests/ctl/requests.sh
EXTRA_DIST += tests/ctl/requests.sh
