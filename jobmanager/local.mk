# jobmanager: rules for this module (paths relative to the top: use %reldir%)
#
# jobmanager-cloud: the GRAM LRM "cloud" and the HTCondor(-CE) policy files.
# The GRAM pieces go where Globus looks for them (configure decides the
# prefix: --prefix=/usr --sysconfdir=/etc gives Debian's layout).  The CE
# route and schedd files are installed as examples under
# $(pkgdatadir)/jobmanager-cloud: exactly one route file must be copied into
# the CE's config.d, so none is enabled by installing.

gramperldir = $(perlvendorlibdir)/Globus/GRAM/JobManager
gramperl_DATA = %reldir%/Globus/GRAM/JobManager/cloud.pm

gramrvfdir = $(datadir)/globus/globus_gram_job_manager
gramrvf_DATA = %reldir%/cloud.rvf

gridservicesdir = $(sysconfdir)/grid-services/available
gridservices_DATA = %reldir%/grid-services/jobmanager-cloud

globusconfdir = $(sysconfdir)/globus
globusconf_DATA = %reldir%/globus-cloud.conf

jobmanagercloudexampledir = $(pkgdatadir)/jobmanager-cloud
jobmanagercloudexample_DATA = \
	%reldir%/htcondor-ce/90-cloudburst-routes.conf \
	%reldir%/htcondor-ce/90-cloudburst-routes-old.conf \
	%reldir%/schedd/90-cloudburst-transforms.conf

EXTRA_DIST += $(gramperl_DATA) $(gramrvf_DATA) $(gridservices_DATA) \
	$(globusconf_DATA) $(jobmanagercloudexample_DATA)

dist_man_MANS += man/jobmanager-cloud.7
