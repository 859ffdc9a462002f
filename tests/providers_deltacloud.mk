# tests/providers_deltacloud: rules for this test area
