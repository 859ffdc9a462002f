/* fake_server: start, query and stop one of the stateful fake clouds in
 * tests/fake/ (fake_ec2.py, fake_openstack.py, fake_deltacloud.py) from a C
 * test or benchmark.
 *
 * Promises:
 * - The fake runs as a child process on 127.0.0.1 with an ephemeral port it
 *   writes to a port file in a private mkdtemp directory; start waits (up to
 *   30 s: python may start slowly on a loaded host) until the port is known or
 *   the child died, and fails otherwise. The child gets PR_SET_PDEATHSIG, so a
 *   test that aborts without teardown does not leave it behind.
 * - stop kills and reaps the child and removes the directory (and the files
 *   the helper put there). It is idempotent.
 * - No globals: everything lives in the caller's struct fake_server.
 * Ownership: fake_server_get/post return malloc'ed bodies the caller frees.
 */
#ifndef CB_TEST_FAKE_SERVER_H
#define CB_TEST_FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct fake_server {
    pid_t pid;
    int port;
    char dir[128];      /* private directory; files for the fake may go here */
    char base[64];      /* "http://127.0.0.1:<port>" */
};

struct fake_server_opts {
    const char *script;        /* file name under tests/fake/, e.g. "fake_deltacloud.py" */
    const char *srcdir;        /* top source dir; NULL = $top_srcdir, else "." */
    const char *python;        /* NULL = $PYTHON3 (unless empty or "no"), else "python3" */
    const char *const *args;   /* extra arguments, NULL-terminated; may be NULL */
    bool quiet;                /* send the fake's stdout to /dev/null */
};

/* Make the private directory before start (to put a pool or control file
 * there that the fake's arguments name); start then uses it. 0 or -1. A
 * struct fake_server must be zeroed, or made by this, before start. */
int fake_server_mkdir(struct fake_server *f);

/* Start the fake. Returns 0, or -1 with a message in msg (len bytes). */
int fake_server_start(struct fake_server *f, const struct fake_server_opts *o, char *msg,
                      size_t len);
void fake_server_stop(struct fake_server *f);

/* "<dir>/<name>" into buf: a path in the fake's private directory. */
const char *fake_server_path(const struct fake_server *f, const char *name, char *buf, size_t len);

/* One request to the fake's own (control) side; the reply body when the
 * status is 200, else NULL. body may be NULL. */
char *fake_server_call(const struct fake_server *f, const char *method, const char *path,
                       const char *body);

#endif
