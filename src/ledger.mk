# src/ledger: the durable node/event record (SQLite), linked into cloudburstd
# and cloudburstctl through libcbshell.
src_libcbshell_la_SOURCES += \
	src/ledger.c src/ledger.h \
	src/ledger_schema.c \
	src/ledger_query.c \
	src/ledger_admin.c
