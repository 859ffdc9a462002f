# bench/bootstrap: benchmark rules for this area
