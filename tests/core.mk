# tests/core: the decision core. test_core has a unit test per policy rule;
# test_core_props drives the core through thousands of random observation
# sequences and checks its invariants after every step.
check_PROGRAMS += tests/test_core tests/test_core_props
TESTS += tests/test_core tests/test_core_props
tests_test_core_SOURCES = tests/test_core.c
tests_test_core_CFLAGS = $(TESTS_CHECK_CFLAGS)
tests_test_core_LDADD = src/core/libcbcore.la src/libcbcommon.la $(TESTS_CHECK_LIBS)
tests_test_core_props_SOURCES = tests/test_core_props.c
tests_test_core_props_CFLAGS = $(TESTS_CHECK_CFLAGS)
tests_test_core_props_LDADD = src/core/libcbcore.la src/libcbcommon.la $(TESTS_CHECK_LIBS)
