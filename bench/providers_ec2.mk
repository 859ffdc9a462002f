# bench/providers_ec2: the EC2 driver against the fake with 200 ms per call:
# 1,000 instances booted and confirmed, 10,000 listed, 10,000 terminated.
EXTRA_PROGRAMS += bench/bench_ec2
BENCHMARKS += bench/bench_ec2
bench_bench_ec2_SOURCES = bench/bench_ec2.c tests/test_ec2_fake.h tests/fake_server.c \
	tests/fake_server.h src/provider_loader.c
bench_bench_ec2_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common -I$(top_srcdir)/tests \
	-DCB_TOP_SRCDIR='"$(abs_top_srcdir)"' -DCB_TOP_BUILDDIR='"$(abs_top_builddir)"'
bench_bench_ec2_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)
bench_bench_ec2_LDADD = providers/common/libcbhttp.la src/libcbcommon.la $(CURL_LIBS) $(JSONC_LIBS)
EXTRA_bench_bench_ec2_DEPENDENCIES = providers/ec2/ec2.la
