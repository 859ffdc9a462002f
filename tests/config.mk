# tests/config: rules for this test area
# cloudburst.conf loading, validation, printing, secrets and the man page.
# Bad configurations are data: tests/data/config/<case>.conf + <case>.expect.

# Test-only provider modules (one source, three specs), loaded from
# $(top_builddir)/tests/providers/cfgdummy/.libs by the tests.
check_LTLIBRARIES += tests/providers/cfgdummy/testdummy.la \
	tests/providers/cfgdummy/ec2.la tests/providers/cfgdummy/openstack.la \
	tests/providers/cfgdummy/badspec.la tests/providers/cfgdummy/baddefault.la
CFGDUMMY_LDFLAGS = -module -avoid-version -rpath /nowhere $(AM_LDFLAGS)
tests_providers_cfgdummy_testdummy_la_SOURCES = tests/providers/testdummy.c
tests_providers_cfgdummy_testdummy_la_CPPFLAGS = $(AM_CPPFLAGS) -DCB_DUMMY_KIND=0
tests_providers_cfgdummy_testdummy_la_LDFLAGS = $(CFGDUMMY_LDFLAGS)
tests_providers_cfgdummy_testdummy_la_LIBADD = src/libcbcommon.la
tests_providers_cfgdummy_ec2_la_SOURCES = tests/providers/testdummy.c
tests_providers_cfgdummy_ec2_la_CPPFLAGS = $(AM_CPPFLAGS) -DCB_DUMMY_KIND=1
tests_providers_cfgdummy_ec2_la_LDFLAGS = $(CFGDUMMY_LDFLAGS)
tests_providers_cfgdummy_ec2_la_LIBADD = src/libcbcommon.la
tests_providers_cfgdummy_openstack_la_SOURCES = tests/providers/testdummy.c
tests_providers_cfgdummy_openstack_la_CPPFLAGS = $(AM_CPPFLAGS) -DCB_DUMMY_KIND=2
tests_providers_cfgdummy_openstack_la_LDFLAGS = $(CFGDUMMY_LDFLAGS)
tests_providers_cfgdummy_openstack_la_LIBADD = src/libcbcommon.la
tests_providers_cfgdummy_badspec_la_SOURCES = tests/providers/testdummy.c
tests_providers_cfgdummy_badspec_la_CPPFLAGS = $(AM_CPPFLAGS) -DCB_DUMMY_KIND=3
tests_providers_cfgdummy_badspec_la_LDFLAGS = $(CFGDUMMY_LDFLAGS)
tests_providers_cfgdummy_badspec_la_LIBADD = src/libcbcommon.la
tests_providers_cfgdummy_baddefault_la_SOURCES = tests/providers/testdummy.c
tests_providers_cfgdummy_baddefault_la_CPPFLAGS = $(AM_CPPFLAGS) -DCB_DUMMY_KIND=4
tests_providers_cfgdummy_baddefault_la_LDFLAGS = $(CFGDUMMY_LDFLAGS)
tests_providers_cfgdummy_baddefault_la_LIBADD = src/libcbcommon.la

check_PROGRAMS += tests/test_config
TESTS += tests/test_config
tests_test_config_SOURCES = tests/test_config.c
tests_test_config_CFLAGS = $(TESTS_CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_test_config_LDADD = src/libcbshell.la $(TESTS_CHECK_LIBS)
# make check builds check_LTLIBRARIES before it runs TESTS, so the modules exist.

# Fuzz target for the configuration parser (replays the case files under make check).
check_PROGRAMS += tests/fuzz/fuzz_config
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_config_LDADD = src/libcbshell.la
TESTS += tests/config/fuzz-replay.sh
EXTRA_DIST += tests/config/fuzz-replay.sh tests/fuzz/libconfig.supp
