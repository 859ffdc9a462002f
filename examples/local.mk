# examples: rules for this module (paths relative to the top: use %reldir%)
# The commented example configuration, installed with the documentation and
# loaded by tests/test_config (with stand-in ec2/openstack drivers).
examplesdir = $(docdir)/examples
dist_examples_DATA = %reldir%/cloudburst.conf
