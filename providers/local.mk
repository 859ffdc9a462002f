# providers: the shared, statically linked helpers of every driver (HTTP, clock,
# settings). The drivers themselves live in providers/<name>/local.mk.
noinst_LTLIBRARIES += providers/common/libcbhttp.la
providers_common_libcbhttp_la_SOURCES = providers/common/cb_http.c providers/common/cb_http.h \
	providers/common/cb_driver.c providers/common/cb_driver.h
providers_common_libcbhttp_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common -include cb_autoconf.h
providers_common_libcbhttp_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
providers_common_libcbhttp_la_LIBADD = $(CURL_LIBS)
