/* harness: real OpenSSH sshd instances on 127.0.0.1 playing cloud nodes.
 *
 * Each node is a private sshd (generated host key, ephemeral port, private
 * config with StrictModes no / UsePAM no / PermitRootLogin prohibit-password,
 * running as the current user) and a root prefix directory whose usr/bin
 * holds the HTCondor/CVMFS stand-ins from tests/bootstrap/standins (Debian has
 * neither package; everything else the script uses is the real system).
 * Used by tests/test_bootstrap.c and bench/bench_bootstrap.c.
 */
#ifndef CB_TEST_HARNESS_H
#define CB_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define H_PATH 512

struct h_env {
    char dir[256];              /* mkdtemp work directory */
    char sshd[H_PATH], keygen[H_PATH];
    char srcdir[256];           /* $top_srcdir */
    char user[64];
    char key_ed25519[H_PATH], key_rsa[H_PATH], key_wrong[H_PATH];
    char authorized[H_PATH];
    char known_hosts[H_PATH], state_dir[H_PATH];
    char script_dir[H_PATH];    /* $top_srcdir/images */
    bool allow_ssh_rsa;         /* sshd accepts SHA-1 RSA signatures (see harness.c) */
};

struct h_node {
    char id[64];
    char dir[400], root[H_PATH];
    int port;
    pid_t pid;
    int max_sessions;
    bool no_sftp;               /* sshd without the sftp subsystem (next (re)start) */
};

/* Set up keys and directories. Returns 0, 77 (skip: why says so) or 99. */
int h_env_init(struct h_env *env, char *why, size_t why_len);
/* Remove the work directory (nodes must be stopped). */
void h_env_cleanup(struct h_env *env);

/* Create the node (host key, root with stand-ins) and start its sshd.
 * max_sessions: concurrent connections the sshd accepts unauthenticated.
 * Returns 0, 77 (sshd refuses to start for a reason outside the test) or 99. */
int h_node_start(struct h_env *env, struct h_node *n, const char *id, int max_sessions,
                 char *why, size_t why_len);
/* Restart the same node's sshd (same port) — with a fresh host key if asked. */
int h_node_restart(struct h_env *env, struct h_node *n, bool new_host_key);
/* Kill the sshd and every session process it spawned (its process group). */
void h_node_stop(struct h_node *n);
/* Kill the sshd and its session processes (the connection drops now). */
void h_node_kill_sessions(struct h_node *n);

/* A free loopback TCP port (nothing listens on it when this returns). */
int h_free_port(void);

/* system() on a formatted command; returns the exit status (-1 on error). */
int h_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole small file (NUL-terminated, malloc'ed) or NULL. */
char *h_read(const char *path);

#endif
