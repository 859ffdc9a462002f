# tests/providers_openstack: rules for this test area
