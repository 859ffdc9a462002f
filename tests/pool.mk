# tests/pool: rules for this test area
