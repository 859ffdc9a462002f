# dist: the systemd unit (paths filled in from configure).
systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = dist/systemd/cloudburstd.service
EXTRA_DIST += dist/systemd/cloudburstd.service.in
CLEANFILES += dist/systemd/cloudburstd.service
dist/systemd/cloudburstd.service: $(srcdir)/dist/systemd/cloudburstd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist/systemd && \
	$(SED) -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/dist/systemd/cloudburstd.service.in > $@

TESTS += tests/dist/unit.sh tests/dist/dashboard.sh
EXTRA_DIST += tests/dist/unit.sh tests/dist/dashboard.sh
check_DATA = dist/systemd/cloudburstd.service
EXTRA_DIST += dist/rpm/cloudburst.spec
# The Grafana dashboard over the metrics cloudburstd exports.
grafanadir = $(pkgdatadir)/grafana
dist_grafana_DATA = dist/grafana/cloudburst-dashboard.json
