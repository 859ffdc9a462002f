# src/daemon: cloudburstd, the service.
# (The program is added back here once the cycle's modules have landed; until
# then only its man page ships.)
dist_man_MANS += man/cloudburstd.8
EXTRA_DIST += src/cloudburstd.c src/daemon.c src/daemon.h src/cycle.h
