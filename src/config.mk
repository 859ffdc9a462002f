# src/config: rules for this module (appends to src_libcbshell_la_SOURCES or defines its binary)
# cloudburst.conf loading and validation (one schema table drives loading,
# printing and the man page test), and the one reader of secret files.
src_libcbshell_la_SOURCES += \
	src/config.c src/config_loader.h src/config_provider.c \
	src/config_schema.c src/config_schema.h src/config_print.c \
	src/secret.c src/secret.h
dist_man_MANS += man/cloudburst.conf.5
