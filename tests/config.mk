# tests/config: rules for this test area
