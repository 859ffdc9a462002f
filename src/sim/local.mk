# src/sim: cloudburst-sim. libcbsim holds the simulator (traces, models, the
# event loop, the policies, the report) so the tests and the benchmark link
# the same code as the program; the cloudburst policy is the real core
# (src/core/libcbcore.la), exactly what the daemon links.
noinst_LTLIBRARIES += src/sim/libcbsim.la
src_sim_libcbsim_la_SOURCES = \
	src/sim/sim.h src/sim/sim.c src/sim/trace.c src/sim/report.c \
	src/sim/policy_core.c src/sim/policy_baselines.c
src_sim_libcbsim_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(ZLIB_CFLAGS)
src_sim_libcbsim_la_LIBADD = src/core/libcbcore.la src/libcbcommon.la \
	$(JSONC_LIBS) $(ZLIB_LIBS) -lm

bin_PROGRAMS += src/sim/cloudburst-sim
src_sim_cloudburst_sim_SOURCES = src/sim/main.c
src_sim_cloudburst_sim_LDADD = src/sim/libcbsim.la

dist_man_MANS += man/cloudburst-sim.1
