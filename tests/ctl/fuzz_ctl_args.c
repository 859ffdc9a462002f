/* fuzz_ctl_args: cloudburstctl's command line and --since parser on
 * arbitrary bytes. The input is split at newlines into argv (at most 32
 * arguments); the ledger named by any --ledger in it is opened read-only, so
 * nothing is ever written: inputs naming a command that writes a request
 * (pause, resume, drain, terminate) or runs the pool's tools (pool) are
 * skipped, because a fuzzer must not submit requests to, or run commands
 * from, whatever ledger or configuration it happens to name. Their argument
 * parsing is the same table-driven code the other commands go through. The
 * whole input is also given to ctl_parse_time.
 * Output goes to memory and is dropped: only crashes and sanitizer reports
 * count. */
#include "ctl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096
#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct cb_err err = CB_ERR_INIT;
    int64_t t;
    (void)ctl_parse_time(text, INT64_C(1795327200), &t, &err);

    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "cloudburstctl";
    for (char *save = NULL, *tok = strtok_r(text, "\n", &save); tok && argc <= MAX_ARGS;
         tok = strtok_r(NULL, "\n", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    static const char *const acting[] = {"pause", "resume", "drain", "terminate", "pool"};
    for (int i = 1; i < argc; i++)
        for (size_t k = 0; k < sizeof acting / sizeof acting[0]; k++)
            if (strcmp(argv[i], acting[k]) == 0) {
                free(text);
                return 0;
            }
    char *out = NULL, *errs = NULL;
    size_t out_len = 0, err_len = 0;
    FILE *fo = open_memstream(&out, &out_len), *fe = open_memstream(&errs, &err_len);
    if (fo && fe)
        (void)ctl_main(argc, argv, fo, fe, INT64_C(1795327200));
    if (fo)
        fclose(fo);
    if (fe)
        fclose(fe);
    free(out);
    free(errs);
    free(text);
    return 0;
}
