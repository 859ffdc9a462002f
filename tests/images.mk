# tests/images: rules for this test area
