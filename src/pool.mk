# src/pool: rules for this module (appends to src_libcbshell_la_SOURCES or defines its binary)
# The HTCondor pool adapter: pure parsers of condor tool output (pool_parse),
# the tool runner on the libuv loop (pool), and the "what the adapter sees"
# report behind `cloudburstctl pool` (pool_report).
src_libcbshell_la_SOURCES += \
	src/pool.c src/pool.h src/pool_internal.h src/pool_run.c \
	src/pool_parse.c src/pool_parse.h
src_libcbshell_la_SOURCES += src/pool_report.c src/pool_report.h
