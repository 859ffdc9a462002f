# tests/jobmanager: rules for this test area
#
# jobmanager-cloud: Perl TAP tests drive Debian's real GRAM condor LRM (in
# process and through globus-job-manager-script.pl) with a fake
# condor_submit; a Python test reads the route, transform and
# submit-requirement files as HTCondor configuration.
TESTS += \
	tests/jobmanager/submit.t \
	tests/jobmanager/driver.t \
	tests/jobmanager/validate_fuzz.t \
	tests/jobmanager/config_syntax.py
EXTRA_DIST += \
	tests/jobmanager/submit.t \
	tests/jobmanager/driver.t \
	tests/jobmanager/validate_fuzz.t \
	tests/jobmanager/config_syntax.py \
	tests/jobmanager/fake-condor_submit \
	tests/jobmanager/fake-condor_rm \
	tests/jobmanager/lib/CloudJMTest.pm \
	tests/jobmanager/lib/GramTestSysconf.pm \
	tests/jobmanager/lib/htcondor_config.py \
	tests/jobmanager/lib/final_requirements.py
