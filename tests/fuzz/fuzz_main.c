/* fuzz_main: lets every fuzz target also build as a plain program.
 *
 * A fuzz target defines LLVMFuzzerTestOneInput(). Linked with libFuzzer
 * (clang -fsanitize=fuzzer) it is fuzzed; linked with this file instead it
 * runs the parser over each file named on the command line (recorded
 * responses, crash reproducers), so `make check` replays the corpus under
 * ASan/UBSan. Exit status: 0 when every file was processed, 1 on an
 * unreadable file. Parser failures on bad input are expected; crashes are not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        size_t cap = 1 << 16, n = 0;
        uint8_t *buf = malloc(cap);
        size_t r;
        while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
            n += r;
            if (n == cap) {
                uint8_t *nb = realloc(buf, cap * 2);
                if (nb == NULL) {
                    free(buf);
                    buf = NULL;
                    break;
                }
                buf = nb;
                cap *= 2;
            }
        }
        fclose(f);
        if (buf == NULL) {
            fprintf(stderr, "%s: out of memory\n", argv[i]);
            rc = 1;
            continue;
        }
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
    }
    return rc;
}
