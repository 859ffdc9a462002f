# bench/providers: benchmark rules for this area
