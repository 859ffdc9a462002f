# tests/providers: the drivers' shared helpers (HTTP, multi, clock, settings) and the
# provider loader.
# The fake clouds' shared base (address pool, hooks, state file, faults); the
# C side of starting them is tests/fake_server.[ch], listed in each suite's SOURCES.
EXTRA_DIST += tests/fake/fakebase.py
check_PROGRAMS += tests/test_http
TESTS += tests/test_http
tests_test_http_SOURCES = tests/test_http.c
tests_test_http_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common
tests_test_http_CFLAGS = $(TESTS_CHECK_CFLAGS) $(CURL_CFLAGS)
tests_test_http_LDADD = providers/common/libcbhttp.la src/libcbcommon.la $(TESTS_CHECK_LIBS) $(CURL_LIBS)

# The provider loader, against modules built to be wrong in one way each.
check_LTLIBRARIES += tests/loader/loadergood.la tests/loader/loaderbadabi.la \
	tests/loader/loaderwrongname.la tests/loader/loadernosymbol.la tests/loader/loadernolist.la
LOADER_MODULE_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
LOADER_MODULE_LIBADD = src/libcbcommon.la
tests_loader_loadergood_la_SOURCES = tests/loader/module.c
tests_loader_loadergood_la_CPPFLAGS = $(AM_CPPFLAGS) -DLOADER_GOOD -DLOADER_NAME='"loadergood"'
tests_loader_loadergood_la_LDFLAGS = $(LOADER_MODULE_LDFLAGS)
tests_loader_loadergood_la_LIBADD = $(LOADER_MODULE_LIBADD)
tests_loader_loaderbadabi_la_SOURCES = tests/loader/module.c
tests_loader_loaderbadabi_la_CPPFLAGS = $(AM_CPPFLAGS) -DLOADER_BAD_ABI -DLOADER_NAME='"loaderbadabi"'
tests_loader_loaderbadabi_la_LDFLAGS = $(LOADER_MODULE_LDFLAGS)
tests_loader_loaderbadabi_la_LIBADD = $(LOADER_MODULE_LIBADD)
tests_loader_loaderwrongname_la_SOURCES = tests/loader/module.c
tests_loader_loaderwrongname_la_CPPFLAGS = $(AM_CPPFLAGS) -DLOADER_WRONG_NAME -DLOADER_NAME='"loaderwrongname"'
tests_loader_loaderwrongname_la_LDFLAGS = $(LOADER_MODULE_LDFLAGS)
tests_loader_loaderwrongname_la_LIBADD = $(LOADER_MODULE_LIBADD)
tests_loader_loadernosymbol_la_SOURCES = tests/loader/module.c
tests_loader_loadernosymbol_la_CPPFLAGS = $(AM_CPPFLAGS) -DLOADER_NO_SYMBOL -DLOADER_NAME='"loadernosymbol"'
tests_loader_loadernosymbol_la_LDFLAGS = $(LOADER_MODULE_LDFLAGS)
tests_loader_loadernosymbol_la_LIBADD = $(LOADER_MODULE_LIBADD)
tests_loader_loadernolist_la_SOURCES = tests/loader/module.c
tests_loader_loadernolist_la_CPPFLAGS = $(AM_CPPFLAGS) -DLOADER_NO_LIST -DLOADER_NAME='"loadernolist"'
tests_loader_loadernolist_la_LDFLAGS = $(LOADER_MODULE_LDFLAGS)
tests_loader_loadernolist_la_LIBADD = $(LOADER_MODULE_LIBADD)

check_PROGRAMS += tests/test_provider_loader
TESTS += tests/test_provider_loader
tests_test_provider_loader_SOURCES = tests/test_provider_loader.c
tests_test_provider_loader_CFLAGS = $(TESTS_CHECK_CFLAGS)
tests_test_provider_loader_LDADD = src/libcbshell.la $(TESTS_CHECK_LIBS)

check_PROGRAMS += tests/test_cloud_worker
TESTS += tests/test_cloud_worker
tests_test_cloud_worker_SOURCES = tests/test_cloud_worker.c
tests_test_cloud_worker_CFLAGS = $(TESTS_CHECK_CFLAGS) $(UV_CFLAGS)
tests_test_cloud_worker_LDADD = src/libcbshell.la $(TESTS_CHECK_LIBS) $(UV_LIBS)
