/* cloudburstd: the daemon's entry point (being built up; see issue 2). */
#include "cb_autoconf.h"
#include "config.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("cloudburstd %s\n", PACKAGE_VERSION);
        return 0;
    }
    cb_log_setup("cloudburstd", CB_LOG_STDERR, 0, CB_LOG_INFO);
    cb_error("not yet operational");
    return 1;
}
