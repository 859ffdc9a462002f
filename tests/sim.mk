# tests/sim: rules for this test area
