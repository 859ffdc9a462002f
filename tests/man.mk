# tests/man: rules for this test area
