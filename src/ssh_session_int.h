/* ssh_session_int: the session state shared by the files of the per-node
 * state machine (internal; see ssh_session.h):
 *   ssh_session.c  connection, host key, login, the driver, the result
 *   ssh_channel.c  one exec channel as a small state machine
 *   ssh_sftp.c     stage and upload: one SFTP session for all files
 *   ssh_steps.c    the steps after login: run, command, harvest
 * Step functions return enum bs_rc; a failure is recorded with bs_failf()
 * (first cause wins) and names the step it happened in.
 */
#ifndef CB_SSH_SESSION_INT_H
#define CB_SSH_SESSION_INT_H

#include "ssh_session.h"

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <stdbool.h>
#include <stdint.h>

#define HARVEST_MAX (64u * 1024 * 1024)   /* bytes of logs.tar.gz */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
#define STAGE_PATH_MAX 1200   /* node_root (<= 1024) + /tmp/cloudburst.<hex> */

enum bs_rc { RC_DONE = 0, RC_AGAIN, RC_WAIT, RC_FAIL };

enum chan_sub { CH_OPEN = 0, CH_EXEC, CH_WRITE, CH_EOF, CH_READ, CH_CLOSE, CH_WAITCLOSED, CH_FREE };

struct buf {
    char *p;
    size_t len, max;
    bool trunc;
};

struct chan {
    enum chan_sub sub;
    char *cmd;                  /* exec command (owned) */
    const char *in;             /* stdin bytes (borrowed) */
    size_t in_len, in_off;
    struct buf out, err;
    int out_fd;                 /* stdout into this file instead of out (harvest) */
    size_t out_fd_bytes;
    int exit_status;
};

struct cb_bs_session {
    const struct cb_bs_shared *sh;
    uv_loop_t *loop;
    cb_bootstrap_cb cb;
    void *payload;
    cb_bs_done_fn done;
    void *owner;
    struct cb_bs_session *next;     /* bootstrapper's queue / list */

    char node_id[CB_NAME_MAX], address[64], *host_keys, *command;
    char *root;                     /* CB_ROOT on the node, NULL = / */
    unsigned port;
    struct cb_node_files files;
    bool is_bootstrap;

    enum cb_bootstrap_step step;
    int fd;
    LIBSSH2_SESSION *ssh;
    LIBSSH2_CHANNEL *ch;
    LIBSSH2_SFTP *sftp;             /* stage and upload only */
    LIBSSH2_SFTP_HANDLE *fh;        /* the file being uploaded */
    uv_poll_t *poll;
    uv_timer_t timer;
    bool timer_is_backoff, connecting, broken, harvesting, started, reported;
    int handles;                    /* open libuv handles; freed at 0 after report */
    uint64_t t0, wait_deadline;
    unsigned attempts, backoff_ms;
    char last_connect_error[128];
    char host_key[64];
    char stage[STAGE_PATH_MAX];
    size_t file_idx, file_off;      /* upload progress */
    unsigned stage_tries;
    struct chan chan;
    struct buf run_out, run_err;
    int exit_status;
    enum cb_bootstrap_step failed_step;
    struct cb_err err;
    char harvest_dir[512];
};


void bs_slog(struct cb_bs_session *s, enum cb_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int bs_failf(struct cb_bs_session *s, enum cb_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A libssh2 failure: socket-level errors mark the connection broken. */
int bs_ssh_fail(struct cb_bs_session *s, int rc, const char *what);
/* Enter a step and (re)arm its deadline. */
void bs_step_to(struct cb_bs_session *s, enum cb_bootstrap_step step);

/* ssh_channel.c */
void bs_buf_add(struct buf *b, const char *p, size_t n);
void bs_buf_free(struct buf *b);
void bs_chan_reset(struct cb_bs_session *s);
int bs_chan_run(struct cb_bs_session *s);
char *bs_privileged(struct cb_bs_session *s, const char *cmd);
int bs_exec_setup(struct cb_bs_session *s, char *cmd);

/* ssh_sftp.c */
int bs_do_stage(struct cb_bs_session *s);
int bs_do_upload(struct cb_bs_session *s);
/* Free the SFTP handle and session (after a failure; the socket is shut
 * down, so nothing blocks). */
void bs_sftp_abort(struct cb_bs_session *s);

/* ssh_steps.c */
int bs_do_run(struct cb_bs_session *s);
int bs_do_command(struct cb_bs_session *s);
int bs_do_harvest(struct cb_bs_session *s);
int bs_harvest_dir(struct cb_bs_session *s);
void bs_write_report_file(struct cb_bs_session *s);

#endif
