# tests/bootstrap: rules for this test area
