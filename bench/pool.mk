# bench/pool: benchmark rules for this area
