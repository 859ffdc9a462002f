/* cb_text: see cb_text.h. */
#include "cb_text.h"

#include <stdlib.h>
#include <string.h>

size_t cb_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. Overlong
 * forms and surrogates are invalid: they are how filters get bypassed. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0;
        if (c == 0xED && s[1] >= 0xA0)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

char *cb_sanitize(char *dst, size_t size, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;

    if (size == 0)
        return dst;
    while (*s != '\0') {
        size_t n = utf8_seq_len(s);
        if (n == 1 && (*s < 0x20 || *s == 0x7F))
            n = 0;
        if (n == 0) {
            if (o + 1 >= size)
                break;
            dst[o++] = '?';
            s++;
            continue;
        }
        if (o + n >= size)
            break;
        memcpy(dst + o, s, n);
        o += n;
        s += n;
    }
    dst[o] = '\0';
    return dst;
}

void cb_sanitize_inplace(char *s)
{
    /* Sanitising never lengthens the text, so the same buffer can be the output. */
    unsigned char *r = (unsigned char *)s;
    char *w = s;

    while (*r != '\0') {
        size_t n = utf8_seq_len(r);
        if (n == 1 && (*r < 0x20 || *r == 0x7F))
            n = 0;
        if (n == 0) {
            *w++ = '?';
            r++;
            continue;
        }
        memmove(w, r, n);
        w += n;
        r += n;
    }
    *w = '\0';
}

bool cb_is_safe_name(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

char *cb_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}
