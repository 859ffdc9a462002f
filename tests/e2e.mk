# tests/e2e: the real cloudburstd end to end. The fake OpenStack cloud boots
# "instances" that are real sshd hosts in network namespaces the test
# creates; the pool follows what the bootstrap wrote on them; kill -9
# injections with restarts (E2E_KILLS, docs/e2e.md for a long run).
# Skipped (77) where network namespaces cannot be created (not root).
TESTS += tests/e2e/e2e.py
EXTRA_DIST += tests/e2e/e2e.py tests/e2e/node_host.py tests/e2e/pool_sim.py \
	tests/e2e/standins/condor_off tests/e2e/standins/condor_on
