# tests/providers_ec2: the EC2 driver, its SigV4 signer and its parsers.
EC2_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common -I$(top_srcdir)/providers/ec2
EC2_TEST_CFLAGS = $(TESTS_CHECK_CFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
EC2_TEST_LIBS = providers/ec2/libec2.la providers/common/libcbhttp.la src/libcbcommon.la \
	$(TESTS_CHECK_LIBS) $(CURL_LIBS) $(XML_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS)

# The whole official SigV4 suite (tests/fixtures/sigv4), one Check test per case.
check_PROGRAMS += tests/test_sigv4
TESTS += tests/test_sigv4
tests_test_sigv4_SOURCES = tests/test_sigv4.c
tests_test_sigv4_CPPFLAGS = $(EC2_TEST_CPPFLAGS)
tests_test_sigv4_CFLAGS = $(EC2_TEST_CFLAGS)
tests_test_sigv4_LDADD = $(EC2_TEST_LIBS)

# The driver module (loaded with cb_provider_load from $top_builddir/providers)
# against tests/fake/fake_ec2.py, which verifies every signature.
check_PROGRAMS += tests/test_ec2
TESTS += tests/test_ec2
tests_test_ec2_SOURCES = tests/test_ec2.c tests/test_ec2_fake.h tests/fake_server.c \
	tests/fake_server.h src/provider_loader.c
tests_test_ec2_CPPFLAGS = $(EC2_TEST_CPPFLAGS)
tests_test_ec2_CFLAGS = $(EC2_TEST_CFLAGS)
tests_test_ec2_LDADD = $(EC2_TEST_LIBS)
EXTRA_DIST += tests/fake/fake_ec2.py

# Fuzz targets for every EC2 reply parser (tests/fuzz/fuzz_main.c makes each a
# replay program); test_ec2_xml replays every recorded reply through them.
EC2_FUZZ = tests/fuzz/fuzz_ec2_instances tests/fuzz/fuzz_ec2_terminate \
	tests/fuzz/fuzz_ec2_error tests/fuzz/fuzz_ec2_credentials
check_PROGRAMS += $(EC2_FUZZ)
tests_fuzz_fuzz_ec2_instances_SOURCES = tests/fuzz/fuzz_ec2_instances.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_ec2_instances_CPPFLAGS = $(EC2_TEST_CPPFLAGS)
tests_fuzz_fuzz_ec2_instances_LDADD = $(EC2_TEST_LIBS)
tests_fuzz_fuzz_ec2_terminate_SOURCES = tests/fuzz/fuzz_ec2_terminate.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_ec2_terminate_CPPFLAGS = $(EC2_TEST_CPPFLAGS)
tests_fuzz_fuzz_ec2_terminate_LDADD = $(EC2_TEST_LIBS)
tests_fuzz_fuzz_ec2_error_SOURCES = tests/fuzz/fuzz_ec2_error.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_ec2_error_CPPFLAGS = $(EC2_TEST_CPPFLAGS)
tests_fuzz_fuzz_ec2_error_LDADD = $(EC2_TEST_LIBS)
tests_fuzz_fuzz_ec2_credentials_SOURCES = tests/fuzz/fuzz_ec2_credentials.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_ec2_credentials_CPPFLAGS = $(EC2_TEST_CPPFLAGS)
tests_fuzz_fuzz_ec2_credentials_LDADD = $(EC2_TEST_LIBS)

# The parsers on the recorded replies, the credential sources, and the fuzz
# replay (so it needs the fuzz programs built first).
check_PROGRAMS += tests/test_ec2_xml
TESTS += tests/test_ec2_xml
tests_test_ec2_xml_SOURCES = tests/test_ec2_xml.c
tests_test_ec2_xml_CPPFLAGS = $(EC2_TEST_CPPFLAGS)
tests_test_ec2_xml_CFLAGS = $(EC2_TEST_CFLAGS)
tests_test_ec2_xml_LDADD = $(EC2_TEST_LIBS)
EXTRA_tests_test_ec2_xml_DEPENDENCIES = $(EC2_FUZZ)

# Cross-check against the official AWS JavaScript SDK signer (npm, installed
# by the script into $top_builddir/tests/node): the script generates requests,
# the SDK signs them, this program signs them again and compares.
check_PROGRAMS += tests/test_sigv4_crosscheck
tests_test_sigv4_crosscheck_SOURCES = tests/test_sigv4_crosscheck.c
tests_test_sigv4_crosscheck_CPPFLAGS = $(EC2_TEST_CPPFLAGS)
tests_test_sigv4_crosscheck_CFLAGS = $(EC2_TEST_CFLAGS)
tests_test_sigv4_crosscheck_LDADD = $(EC2_TEST_LIBS)
TESTS += tests/sigv4/crosscheck.sh
EXTRA_DIST += tests/sigv4/crosscheck.sh tests/sigv4/crosscheck.js

# The SDK the cross-check installed is build output: `make clean` removes it
# (distcheck insists that nothing is left behind).
clean-local: clean-sigv4-node
clean-sigv4-node:
	-rm -rf tests/node
.PHONY: clean-sigv4-node
