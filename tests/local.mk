# tests: each area keeps its own rules in tests/<area>.mk.
# Check programs link libcheck; every test gets the environment set in the
# top Makefile.am (top_srcdir, top_builddir, tool paths).
TESTS_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TESTS_CHECK_LIBS = $(CHECK_LIBS)
EXTRA_DIST += tests/fixtures tests/data

include tests/common.mk
include tests/config.mk
include tests/ledger.mk
include tests/ctl.mk
include tests/core.mk
include tests/sim.mk
include tests/pool.mk
include tests/providers.mk
include tests/providers_ec2.mk
include tests/providers_openstack.mk
include tests/providers_deltacloud.mk
include tests/bootstrap.mk
include tests/jobmanager.mk
include tests/images.mk
include tests/daemon.mk
include tests/e2e.mk
include tests/man.mk
