# src/core: the pure decision core. No I/O, no clock, no globals: it links
# against nothing but libc and libm, which keeps it honest.
noinst_LTLIBRARIES += src/core/libcbcore.la
src_core_libcbcore_la_SOURCES = \
	src/core/lifecycle.c src/core/lifecycle.h \
	src/core/observe.h
