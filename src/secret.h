/* secret: the only code in cloudburst that reads secret files.
 *
 * Promises:
 * - A secret is read from a regular file that is not a symbolic link
 *   (O_NOFOLLOW), is owned by the effective user or root, and grants group
 *   and others no permission bit at all (the check is on the opened file,
 *   fstat, so nothing can be swapped in between check and read).
 * - At most CB_SECRET_MAX bytes; an empty file is refused. One trailing
 *   newline ("\n" or "\r\n") is removed, nothing else is changed.
 * - Errors name the file and, for permissions, its mode; they never contain
 *   any byte of the secret.
 *
 * Ownership: the caller owns *out and must release it with cb_secret_wipe(),
 * which overwrites the bytes (explicit_bzero) before freeing them.
 */
#ifndef CB_SECRET_H
#define CB_SECRET_H

#include "cb_error.h"

#include <stddef.h>

#define CB_SECRET_MAX (64 * 1024)

struct cb_secret {
    char *data; /* NUL-terminated (the content itself may hold NUL bytes) */
    size_t len;
};

/* Read the secret at `path` (must be absolute). On success returns 0 and fills
 * *out. On failure returns -1, *out is empty, and err has origin = path. */
int cb_secret_read(struct cb_secret *out, const char *path, struct cb_err *err);

/* Overwrite and free. Safe on an empty or already wiped secret. */
void cb_secret_wipe(struct cb_secret *s);

#endif
