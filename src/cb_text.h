/* cb_text: bounded string helpers and the sanitiser for text from outside.
 *
 * Everything that came from a cloud API, a condor tool, a node or a config
 * file passes cb_sanitize() before it reaches a log, the ledger or the CLI:
 * control characters (including CR/LF and ESC) and invalid UTF-8 become '?',
 * so a hostile value cannot forge log lines or drive a terminal.
 */
#ifndef CB_TEXT_H
#define CB_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Copy src into dst[size], always NUL-terminated (size > 0). Returns the
 * length of src, so a result >= size means it was truncated. */
size_t cb_strlcpy(char *dst, const char *src, size_t size);

/* Copy src into dst[size] replacing control bytes and invalid UTF-8 with '?'.
 * Truncates on a character boundary. Returns dst. */
char *cb_sanitize(char *dst, size_t size, const char *src);

/* Sanitise in place (same rules). */
void cb_sanitize_inplace(char *s);

/* True if s is non-empty and only [A-Za-z0-9._-]: safe as a name, tag value,
 * file name component or ClassAd string without quoting. */
bool cb_is_safe_name(const char *s);

/* strdup that aborts the process never: returns NULL on ENOMEM. NULL in, NULL out. */
char *cb_strdup(const char *s);

#endif
