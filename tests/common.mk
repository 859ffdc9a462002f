# tests/common: the error type, text hygiene and the node lifecycle table.
check_PROGRAMS += tests/test_common
TESTS += tests/test_common
tests_test_common_SOURCES = tests/test_common.c
tests_test_common_CFLAGS = $(TESTS_CHECK_CFLAGS)
tests_test_common_LDADD = src/libcbcommon.la src/core/libcbcore.la $(TESTS_CHECK_LIBS)

# The replay driver every fuzz target links when not built with libFuzzer.
EXTRA_DIST += tests/fuzz/fuzz_main.c
