# bench/providers_openstack: the OpenStack and Deltacloud drivers against their fakes
# with 200 ms latency per call (boot 1,000 and confirm; list 10,000). Built and run
# by `make bench` only; they print figures and never fail on time. What the driver
# benchmarks share is bench/bench_provider.h over tests/fake_server.[ch].
PROVIDER_BENCH_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common -I$(top_srcdir)/tests \
	-DCB_TOP_SRCDIR='"$(abs_top_srcdir)"' -DCB_TOP_BUILDDIR='"$(abs_top_builddir)"' \
	-DCB_PYTHON3='"$(PYTHON3)"'
EXTRA_PROGRAMS += bench/bench_openstack
BENCHMARKS += bench/bench_openstack
bench_bench_openstack_SOURCES = bench/bench_openstack.c bench/bench_provider.h \
	tests/fake_server.c tests/fake_server.h
bench_bench_openstack_CPPFLAGS = $(PROVIDER_BENCH_CPPFLAGS)
bench_bench_openstack_LDADD = providers/common/libcbhttp.la src/libcbshell.la $(CURL_LIBS)
EXTRA_bench_bench_openstack_DEPENDENCIES = providers/openstack/openstack.la

EXTRA_PROGRAMS += bench/bench_deltacloud
BENCHMARKS += bench/bench_deltacloud
bench_bench_deltacloud_SOURCES = bench/bench_deltacloud.c bench/bench_provider.h \
	tests/fake_server.c tests/fake_server.h
bench_bench_deltacloud_CPPFLAGS = $(PROVIDER_BENCH_CPPFLAGS)
bench_bench_deltacloud_LDADD = providers/common/libcbhttp.la src/libcbshell.la $(CURL_LIBS)
EXTRA_bench_bench_deltacloud_DEPENDENCIES = providers/deltacloud/deltacloud.la
