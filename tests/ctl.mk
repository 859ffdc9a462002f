# tests/ctl: rules for this test area
