# tests/pool: rules for this test area
# The HTCondor pool adapter against fake condor tools (tests/pool/) that check
# their arguments and replay real recorded output (tests/fixtures/htcondor/,
# cases in tests/data/pool/, both distributed through tests/local.mk).
check_PROGRAMS += tests/test_pool
TESTS += tests/test_pool
tests_test_pool_SOURCES = tests/test_pool.c
tests_test_pool_CFLAGS = $(TESTS_CHECK_CFLAGS) $(JSONC_CFLAGS) $(UV_CFLAGS)
tests_test_pool_LDADD = src/libcbshell.la $(TESTS_CHECK_LIBS) $(JSONC_LIBS) $(UV_LIBS)
EXTRA_DIST += tests/pool/fake_condor.py tests/pool/condor_q tests/pool/condor_status \
	tests/pool/condor_drain tests/pool/hang

# Fuzz targets over the parsers of condor output; make check replays every
# recorded fixture through each of them.
check_PROGRAMS += tests/fuzz/fuzz_pool_demand tests/fuzz/fuzz_pool_supply tests/fuzz/fuzz_pool_totals
tests_fuzz_fuzz_pool_demand_SOURCES = tests/fuzz/fuzz_pool_demand.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_pool_demand_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_pool_demand_LDADD = src/libcbshell.la
tests_fuzz_fuzz_pool_supply_SOURCES = tests/fuzz/fuzz_pool_supply.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_pool_supply_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_pool_supply_LDADD = src/libcbshell.la $(JSONC_LIBS)
tests_fuzz_fuzz_pool_totals_SOURCES = tests/fuzz/fuzz_pool_totals.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_pool_totals_CFLAGS = $(AM_CFLAGS)
tests_fuzz_fuzz_pool_totals_LDADD = src/libcbshell.la
TESTS += tests/pool/fuzz-replay.sh
EXTRA_DIST += tests/pool/fuzz-replay.sh
