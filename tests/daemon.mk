# tests/daemon: rules for this test area
