# bench/core: benchmark rules for this area
