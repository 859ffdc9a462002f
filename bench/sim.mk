# bench/sim: benchmark rules for this area
