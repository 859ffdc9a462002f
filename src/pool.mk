# src/pool: rules for this module (appends to src_libcbshell_la_SOURCES or defines its binary)
