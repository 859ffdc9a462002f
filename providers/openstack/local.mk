# providers/openstack: the OpenStack driver (Keystone v3 + Nova), a libtool module
# that exports only cb_provider_ops_v1. The parsers are also a convenience
# library so the tests and fuzz targets link them without the module.
noinst_LTLIBRARIES += providers/openstack/libosparse.la
providers_openstack_libosparse_la_SOURCES = providers/openstack/os_parse.c providers/openstack/os_parse.h
providers_openstack_libosparse_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
providers_openstack_libosparse_la_LIBADD = $(JSONC_LIBS)

provider_LTLIBRARIES += providers/openstack/openstack.la
providers_openstack_openstack_la_SOURCES = providers/openstack/openstack.c \
	providers/openstack/os_client.c providers/openstack/os_client.h
providers_openstack_openstack_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common
providers_openstack_openstack_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)
providers_openstack_openstack_la_LDFLAGS = -module -avoid-version -shared \
	-export-symbols-regex '^cb_provider_ops_v1$$'
providers_openstack_openstack_la_LIBADD = providers/openstack/libosparse.la \
	providers/common/libcbhttp.la src/libcbcommon.la $(CURL_LIBS) $(JSONC_LIBS)
