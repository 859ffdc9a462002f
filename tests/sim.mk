# tests/sim: cloudburst-sim. test_sim checks the trace parsers on the real
# traces and on malformed ones, the simulator's invariants for every policy,
# and runs the program end to end; fuzz-replay.sh replays parser cases through
# the two trace parser fuzz targets.
check_PROGRAMS += tests/test_sim
TESTS += tests/test_sim
tests_test_sim_SOURCES = tests/test_sim.c
tests_test_sim_CFLAGS = $(TESTS_CHECK_CFLAGS)
tests_test_sim_LDADD = src/sim/libcbsim.la $(TESTS_CHECK_LIBS) -lm
EXTRA_tests_test_sim_DEPENDENCIES = src/sim/cloudburst-sim

check_PROGRAMS += tests/fuzz/fuzz_sim_swf tests/fuzz/fuzz_sim_condor
tests_fuzz_fuzz_sim_swf_SOURCES = tests/fuzz/fuzz_sim_swf.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_sim_swf_LDADD = src/sim/libcbsim.la
tests_fuzz_fuzz_sim_condor_SOURCES = tests/fuzz/fuzz_sim_condor.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_sim_condor_LDADD = src/sim/libcbsim.la
TESTS += tests/sim/fuzz-replay.sh
EXTRA_DIST += tests/sim/fuzz-replay.sh tests/sim/data
