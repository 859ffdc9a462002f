# tests/man: every man page passes mandoc -Tlint.
TESTS += tests/man/lint.sh
EXTRA_DIST += tests/man/lint.sh
