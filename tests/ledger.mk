# tests/ledger: rules for this test area
