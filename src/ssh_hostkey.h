/* ssh_hostkey: host key verification for the bootstrapper (internal).
 *
 * The known-hosts file is OpenSSH format, kept by libssh2's knownhost API;
 * the host name of an entry is the node id (cloud addresses are recycled, a
 * node id is not), so `ssh -o HostKeyAlias=<node id>` can use the same file.
 * Console host keys (strict mode) are parsed by cb_ssh_host_keys_parse()
 * (bootstrap.h) and compared blob by blob.
 *
 * Ownership: struct cb_known_hosts owns its libssh2 collection; one per
 * bootstrapper, used from the loop thread only.
 */
#ifndef CB_SSH_HOSTKEY_H
#define CB_SSH_HOSTKEY_H

#include "cb_error.h"

#include <stddef.h>

enum cb_hostkey_verdict { CB_HOSTKEY_MATCH = 0, CB_HOSTKEY_MISMATCH, CB_HOSTKEY_NOTFOUND };

struct cb_known_hosts;

/* Load `path` (a missing file is an empty store). */
int cb_known_hosts_open(struct cb_known_hosts **out, const char *path, struct cb_err *err);
void cb_known_hosts_free(struct cb_known_hosts *kh);

/* Compare the server's key (raw blob and libssh2 LIBSSH2_HOSTKEY_TYPE_*) with
 * what the store holds for `name`. A name known with any other key, of any
 * type, is a mismatch. */
int cb_known_hosts_check(struct cb_known_hosts *kh, const char *name, const char *key,
                         size_t key_len, int key_type, enum cb_hostkey_verdict *verdict,
                         struct cb_err *err);

/* Record `name` with this key and rewrite the file atomically (temporary
 * file, fsync, rename; mode 0600). */
int cb_known_hosts_add(struct cb_known_hosts *kh, const char *name, const char *key,
                       size_t key_len, int key_type, struct cb_err *err);

/* Compare the server key with normalised console lines (output of
 * cb_ssh_host_keys_parse): a key line or a fingerprint that matches is a
 * match; lines that are all other keys are a mismatch. */
int cb_host_keys_check_lines(const char *lines, const char *key, size_t key_len,
                             enum cb_hostkey_verdict *verdict, struct cb_err *err);

/* "SHA256:<base64 without padding>" of a raw key blob into out[size]. */
void cb_hostkey_fingerprint(const char *key, size_t key_len, char *out, size_t size);

#endif
