# tests/core: rules for this test area
