# tests/ledger: the ledger against real SQLite files (transitions, intents,
# lock, migrations, crash safety under kill -9).
check_PROGRAMS += tests/test_ledger
TESTS += tests/test_ledger
tests_test_ledger_SOURCES = tests/test_ledger.c
tests_test_ledger_CFLAGS = $(TESTS_CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_test_ledger_LDADD = src/libcbshell.la $(SQLITE_LIBS) $(TESTS_CHECK_LIBS)
