# tests/providers_ec2: rules for this test area
