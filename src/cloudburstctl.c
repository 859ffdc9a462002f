/* cloudburstctl: the admin CLI. Everything but reading the clock and the
 * process exit lives in ctl.c (so the tests run the same code in-process). */
#include "ctl.h"

#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
    int rc = ctl_main(argc, argv, stdout, stderr, (int64_t)time(NULL));
    if (fflush(stdout) != 0 && rc == CTL_EXIT_OK) {
        perror("cloudburstctl: writing output");
        rc = CTL_EXIT_ERROR;
    }
    return rc;
}
