# bench: each area keeps its benchmark rules in bench/<area>.mk. A benchmark is
# added to EXTRA_PROGRAMS and BENCHMARKS; `make bench` builds and runs them all.
include bench/core.mk
include bench/sim.mk
include bench/pool.mk
include bench/providers.mk
include bench/providers_ec2.mk
include bench/providers_openstack.mk
include bench/bootstrap.mk
