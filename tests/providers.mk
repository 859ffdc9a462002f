# tests/providers: the shared HTTP helper and the provider loader.
check_PROGRAMS += tests/test_http
TESTS += tests/test_http
tests_test_http_SOURCES = tests/test_http.c
tests_test_http_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common
tests_test_http_CFLAGS = $(TESTS_CHECK_CFLAGS) $(CURL_CFLAGS)
tests_test_http_LDADD = providers/common/libcbhttp.la src/libcbcommon.la $(TESTS_CHECK_LIBS) $(CURL_LIBS)
