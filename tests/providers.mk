# tests/providers: rules for this test area
