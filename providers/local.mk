# providers: rules for this module (paths relative to the top: use %reldir%)
