# providers/deltacloud: the Apache Deltacloud driver (REST API, XML via libxml2), a
# libtool module that exports only cb_provider_ops_v1. The parsers are also a
# convenience library so the tests and fuzz targets link them without the module.
noinst_LTLIBRARIES += providers/deltacloud/libdcparse.la
providers_deltacloud_libdcparse_la_SOURCES = providers/deltacloud/dc_parse.c providers/deltacloud/dc_parse.h
providers_deltacloud_libdcparse_la_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS)
providers_deltacloud_libdcparse_la_LIBADD = $(XML_LIBS)

provider_LTLIBRARIES += providers/deltacloud/deltacloud.la
providers_deltacloud_deltacloud_la_SOURCES = providers/deltacloud/deltacloud.c
providers_deltacloud_deltacloud_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common
providers_deltacloud_deltacloud_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS)
providers_deltacloud_deltacloud_la_LDFLAGS = -module -avoid-version -shared \
	-export-symbols-regex '^cb_provider_ops_v1$$'
providers_deltacloud_deltacloud_la_LIBADD = providers/deltacloud/libdcparse.la \
	providers/common/libcbhttp.la src/libcbcommon.la $(CURL_LIBS) $(XML_LIBS)
