# tests/jobmanager: rules for this test area
