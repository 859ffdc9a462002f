/* ssh_hostkey: console host key parsing, the known-hosts store, fingerprints.
 * See ssh_hostkey.h and bootstrap.h. */
#include "ssh_hostkey.h"

#include "bootstrap.h"
#include "cb_text.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- console lines ---------------------------------------------------- */

static const struct {
    const char *name;
    int ssh_type;   /* LIBSSH2_HOSTKEY_TYPE_* */
    int kh_type;    /* LIBSSH2_KNOWNHOST_KEY_* */
} key_types[] = {
    { "ssh-ed25519", LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519 },
    { "ssh-rsa", LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA },
    { "ecdsa-sha2-nistp256", LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256 },
    { "ecdsa-sha2-nistp384", LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384 },
    { "ecdsa-sha2-nistp521", LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521 },
};

static int kh_type_of(int ssh_type)
{
    for (size_t i = 0; i < sizeof key_types / sizeof key_types[0]; i++)
        if (key_types[i].ssh_type == ssh_type)
            return key_types[i].kh_type;
    return 0;
}

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=';
}

/* Decode base64 b64[n] into out[size]; returns the length or -1. */
static long b64_decode(const char *b64, size_t n, unsigned char *out, size_t size)
{
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > size || n > INT32_MAX)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (len < 0)
        return -1;
    if (b64[n - 1] == '=')
        len--;
    if (b64[n - 2] == '=')
        len--;
    return len;
}

/* The SSH wire blob starts with a uint32 length and the key type name. */
static bool blob_has_type(const unsigned char *blob, long len, const char *type)
{
    size_t tl = strlen(type);
    if (len < 4)
        return false;
    unsigned long n = ((unsigned long)blob[0] << 24) | ((unsigned long)blob[1] << 16) |
                      ((unsigned long)blob[2] << 8) | blob[3];
    return n == tl && (size_t)len >= 4 + tl && memcmp(blob + 4, type, tl) == 0;
}

#define FP_PREFIX "SHA256:"
#define FP_B64_LEN 43   /* 32 bytes of SHA-256, base64 without padding */

/* "SHA256:<43 base64>" at p (a word of its own: ssh-keygen -l output, as in
 * cloud-init's fingerprint block)? */
static bool is_fingerprint(const char *p, const char *line, const char *le)
{
    size_t pl = strlen(FP_PREFIX);
    if ((size_t)(le - p) < pl + FP_B64_LEN || memcmp(p, FP_PREFIX, pl) != 0 ||
        (p > line && p[-1] != ' ' && p[-1] != '\t'))
        return false;
    const char *b = p + pl;
    for (size_t i = 0; i < FP_B64_LEN; i++)
        if (!is_b64(b[i]) || b[i] == '=')
            return false;
    const char *e = b + FP_B64_LEN;
    return e == le || *e == ' ' || *e == '\t' || *e == '\r';
}

int cb_ssh_host_keys_parse(const char *text, size_t len, char *out, size_t size,
                           struct cb_err *err)
{
    if (size > 0)
        out[0] = '\0';
    if (len > CB_HOSTKEY_TEXT_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "host_keys", "console text longer than %d bytes",
                          CB_HOSTKEY_TEXT_MAX);
    size_t used = 0;
    int keys = 0;
    unsigned char *blob = malloc(CB_HOSTKEY_LINE_MAX);
    if (blob == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "host_keys", "out of memory");
    const char *p = text, *end = text + len;
    int rc = 0;
    while (p < end && rc == 0) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol != NULL ? eol : end;
        /* A fingerprint line ("256 SHA256:... root@vm (ED25519)"). */
        const char *fp = p;
        while (fp < le && !is_fingerprint(fp, p, le))
            fp++;
        if (fp < le) {
            size_t need = strlen(FP_PREFIX) + FP_B64_LEN + 1;
            if (keys == CB_HOSTKEY_MAX_KEYS) {
                rc = cb_err_set(err, CB_ERR_INVALID, "host_keys", "more than %d host keys",
                                CB_HOSTKEY_MAX_KEYS);
                break;
            }
            if (used + need + 1 > size) {
                rc = cb_err_set(err, CB_ERR_INVALID, "host_keys", "host keys do not fit");
                break;
            }
            memcpy(out + used, fp, need - 1);
            out[used + need - 1] = '\n';
            used += need;
            out[used] = '\0';
            keys++;
            p = le + 1;
            continue;
        }
        /* Skip a console prefix ("ci-info: " etc.): find a known key type word. */
        for (size_t t = 0; t < sizeof key_types / sizeof key_types[0]; t++) {
            size_t tl = strlen(key_types[t].name);
            const char *q = p;
            while (q + tl < le) {
                if (memcmp(q, key_types[t].name, tl) == 0 && (q == p || q[-1] == ' ') &&
                    q[tl] == ' ')
                    break;
                q++;
            }
            if (q + tl >= le)
                continue;
            const char *b = q + tl + 1, *be = b;
            while (be < le && is_b64(*be))
                be++;
            size_t bl = (size_t)(be - b);
            if (be < le && *be != ' ' && *be != '\r')
                continue; /* not a key: some other text mentioning the type */
            if (bl > CB_HOSTKEY_LINE_MAX) {
                rc = cb_err_set(err, CB_ERR_INVALID, "host_keys",
                                "%s key of %zu base64 characters", key_types[t].name, bl);
                break;
            }
            /* Console text that merely mentions a key type, or a damaged
             * key, is not a key: skip it (strict mode then finds no match). */
            long n = bl > 0 ? b64_decode(b, bl, blob, CB_HOSTKEY_LINE_MAX) : -1;
            if (n < 0 || !blob_has_type(blob, n, key_types[t].name))
                continue;
            if (keys == CB_HOSTKEY_MAX_KEYS) {
                rc = cb_err_set(err, CB_ERR_INVALID, "host_keys", "more than %d host keys",
                                CB_HOSTKEY_MAX_KEYS);
                break;
            }
            size_t need = tl + 1 + bl + 1;
            if (used + need + 1 > size) {
                rc = cb_err_set(err, CB_ERR_INVALID, "host_keys", "host keys do not fit");
                break;
            }
            memcpy(out + used, key_types[t].name, tl);
            out[used + tl] = ' ';
            memcpy(out + used + tl + 1, b, bl);
            out[used + need - 1] = '\n';
            used += need;
            out[used] = '\0';
            keys++;
            break;
        }
        p = le + 1;
    }
    free(blob);
    if (rc != 0) {
        if (size > 0)
            out[0] = '\0';
        return -1;
    }
    return keys;
}

int cb_host_keys_check_lines(const char *lines, const char *key, size_t key_len,
                             enum cb_hostkey_verdict *verdict, struct cb_err *err)
{
    *verdict = CB_HOSTKEY_NOTFOUND;
    unsigned char *blob = malloc(CB_HOSTKEY_LINE_MAX);
    if (blob == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "host_keys", "out of memory");
    char fp[64];
    cb_hostkey_fingerprint(key, key_len, fp, sizeof fp);
    for (const char *p = lines; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol != NULL ? (size_t)(eol - p) : strlen(p);
        const char *sp = memchr(p, ' ', ll);
        if (ll > strlen(FP_PREFIX) && memcmp(p, FP_PREFIX, strlen(FP_PREFIX)) == 0) {
            /* A fingerprint: as good as the key (SHA-256 of the same blob). */
            if (ll == strlen(fp) && memcmp(p, fp, ll) == 0) {
                *verdict = CB_HOSTKEY_MATCH;
                break;
            }
            *verdict = CB_HOSTKEY_MISMATCH;
        } else if (sp != NULL) {
            const char *b = sp + 1;
            size_t bl = eol != NULL ? (size_t)(eol - b) : strlen(b);
            long n = b64_decode(b, bl, blob, CB_HOSTKEY_LINE_MAX);
            if (n >= 0 && (size_t)n == key_len && memcmp(blob, key, key_len) == 0) {
                *verdict = CB_HOSTKEY_MATCH;
                break;
            }
            if (n >= 0)
                *verdict = CB_HOSTKEY_MISMATCH;
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    free(blob);
    return 0;
}

void cb_hostkey_fingerprint(const char *key, size_t key_len, char *out, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    if (size == 0)
        return;
    out[0] = '\0';
    if (EVP_Digest(key, key_len, md, &mdlen, EVP_sha256(), NULL) != 1)
        return;
    int n = EVP_EncodeBlock(b64, md, (int)mdlen);
    while (n > 0 && b64[n - 1] == '=')
        b64[--n] = '\0';
    snprintf(out, size, "SHA256:%s", (const char *)b64);
}

/* ---- known-hosts store ------------------------------------------------ */

struct cb_known_hosts {
    char *path;
    LIBSSH2_SESSION *session;   /* never connected: libssh2's knownhost API needs one */
    LIBSSH2_KNOWNHOSTS *hosts;
};

void cb_known_hosts_free(struct cb_known_hosts *kh)
{
    if (kh == NULL)
        return;
    if (kh->hosts != NULL)
        libssh2_knownhost_free(kh->hosts);
    if (kh->session != NULL)
        libssh2_session_free(kh->session);
    free(kh->path);
    free(kh);
}

int cb_known_hosts_open(struct cb_known_hosts **out, const char *path, struct cb_err *err)
{
    *out = NULL;
    if (path == NULL || path[0] != '/')
        return cb_err_set(err, CB_ERR_INVALID, "bootstrap.ssh.known_hosts_file",
                          "missing or not an absolute path");
    struct cb_known_hosts *kh = calloc(1, sizeof *kh);
    if (kh == NULL || (kh->path = cb_strdup(path)) == NULL ||
        (kh->session = libssh2_session_init()) == NULL ||
        (kh->hosts = libssh2_knownhost_init(kh->session)) == NULL) {
        cb_known_hosts_free(kh);
        return cb_err_set(err, CB_ERR_INTERNAL, path, "out of memory");
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            cb_known_hosts_free(kh);
            return cb_err_set(err, CB_ERR_INVALID, path, "known-hosts file is not a regular file");
        }
        if ((st.st_mode & 022) != 0) {
            cb_known_hosts_free(kh);
            return cb_err_set(err, CB_ERR_INVALID, path,
                              "known-hosts file is writable by group or others (mode %04o)",
                              (unsigned)(st.st_mode & 07777));
        }
        if (libssh2_knownhost_readfile(kh->hosts, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
            cb_known_hosts_free(kh);
            return cb_err_set(err, CB_ERR_INVALID, path, "cannot parse the known-hosts file");
        }
    } else if (errno != ENOENT) {
        int e = errno;
        cb_known_hosts_free(kh);
        return cb_err_errno(err, CB_ERR_IO, e, path, "cannot stat the known-hosts file");
    }
    *out = kh;
    return 0;
}

int cb_known_hosts_check(struct cb_known_hosts *kh, const char *name, const char *key,
                         size_t key_len, int key_type, enum cb_hostkey_verdict *verdict,
                         struct cb_err *err)
{
    *verdict = CB_HOSTKEY_NOTFOUND;
    int kt = kh_type_of(key_type);
    if (kt == 0)
        return cb_err_set(err, CB_ERR_PERMANENT, name, "unsupported host key type %d", key_type);
    struct libssh2_knownhost *found = NULL;
    int rc = libssh2_knownhost_checkp(kh->hosts, name, -1, key, key_len,
                                      LIBSSH2_KNOWNHOST_TYPE_PLAIN |
                                          LIBSSH2_KNOWNHOST_KEYENC_RAW | kt,
                                      &found);
    if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
        *verdict = CB_HOSTKEY_MATCH;
        return 0;
    }
    if (rc == LIBSSH2_KNOWNHOST_CHECK_FAILURE)
        return cb_err_set(err, CB_ERR_INTERNAL, name, "known-hosts lookup failed");
    /* Not this key: any other entry for the name (another type) is a change too. */
    struct libssh2_knownhost *h = NULL, *prev = NULL;
    while (libssh2_knownhost_get(kh->hosts, &h, prev) == 0) {
        if (h->name != NULL && strcmp(h->name, name) == 0) {
            *verdict = CB_HOSTKEY_MISMATCH;
            return 0;
        }
        prev = h;
    }
    return 0;
}

/* Re-read the file under an exclusive lock (other bootstrappers, other
 * processes may have added nodes since we loaded it), refuse if the name
 * appeared meanwhile with another key, add, write a temporary file, fsync,
 * rename. The merged collection then replaces ours. */
int cb_known_hosts_add(struct cb_known_hosts *kh, const char *name, const char *key,
                       size_t key_len, int key_type, struct cb_err *err)
{
    int kt = kh_type_of(key_type);
    if (kt == 0)
        return cb_err_set(err, CB_ERR_PERMANENT, name, "unsupported host key type %d", key_type);
    size_t n = strlen(kh->path) + 16;
    char *tmp = malloc(n), *lockp = malloc(n);
    LIBSSH2_KNOWNHOSTS *fresh = libssh2_knownhost_init(kh->session);
    int rc = -1, lockfd = -1, fd = -1;
    if (tmp == NULL || lockp == NULL || fresh == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, kh->path, "out of memory");
        goto out;
    }
    snprintf(tmp, n, "%s.tmp", kh->path);
    snprintf(lockp, n, "%s.lock", kh->path);
    lockfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
        cb_err_errno(err, CB_ERR_IO, errno, lockp, "cannot lock");
        goto out;
    }
    if (access(kh->path, F_OK) == 0 &&
        libssh2_knownhost_readfile(fresh, kh->path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
        cb_err_set(err, CB_ERR_INVALID, kh->path, "cannot parse the known-hosts file");
        goto out;
    }
    struct libssh2_knownhost *h = NULL, *prev = NULL;
    while (libssh2_knownhost_get(fresh, &h, prev) == 0) {
        if (h->name != NULL && strcmp(h->name, name) == 0) {
            cb_err_set(err, CB_ERR_PERMANENT, name,
                       "another key was recorded for this node meanwhile");
            goto out;
        }
        prev = h;
    }
    if (libssh2_knownhost_addc(fresh, name, NULL, key, key_len, "cloudburst", 10,
                               LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kt,
                               NULL) != 0) {
        cb_err_set(err, CB_ERR_INTERNAL, name, "cannot add the host key");
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        cb_err_errno(err, CB_ERR_IO, errno, tmp, "cannot create");
        goto out;
    }
    close(fd);
    fd = -1;
    if (libssh2_knownhost_writefile(fresh, tmp, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
        cb_err_set(err, CB_ERR_IO, tmp, "cannot write the known-hosts file");
        unlink(tmp);
        goto out;
    }
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0 || rename(tmp, kh->path) != 0) {
        cb_err_errno(err, CB_ERR_IO, errno, kh->path, "cannot replace");
        unlink(tmp);
        goto out;
    }
    libssh2_knownhost_free(kh->hosts);
    kh->hosts = fresh;
    fresh = NULL;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (lockfd >= 0)
        close(lockfd);
    if (fresh != NULL)
        libssh2_knownhost_free(fresh);
    free(tmp);
    free(lockp);
    return rc;
}
