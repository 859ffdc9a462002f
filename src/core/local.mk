# src/core: the pure decision core. No I/O, no clock, no globals: it links
# against nothing but libc, which keeps it honest.
noinst_LTLIBRARIES += src/core/libcbcore.la
src_core_libcbcore_la_SOURCES = \
	src/core/lifecycle.c src/core/lifecycle.h \
	src/core/observe.h \
	src/core/core.c src/core/core.h src/core/core_internal.h \
	src/core/core_decide.c src/core/core_plan.c src/core/core_scale_down.c
