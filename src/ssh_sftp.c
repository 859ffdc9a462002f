/* ssh_sftp: the stage and upload steps over ONE SFTP session (libssh2_sftp),
 * non-blocking like the rest of the session (see ssh_session_int.h).
 *
 * Why SFTP: every file sent with SCP costs the node a channel, a login shell
 * and an `scp -t` process, and a staging directory made with `mktemp -d`
 * costs one more channel and shell. One SFTP session (OpenSSH's sftp-server,
 * which every EL9 and Debian 12 sshd enables, since scp itself runs over it)
 * creates the directory and writes all files as pipelined requests, so a
 * bootstrap is one SFTP channel plus the run.
 *
 * The staging directory is <node_root>/tmp/cloudburst.<32 hex digits>: the
 * name comes from getrandom(), and SFTP mkdir fails when the name exists, so
 * nobody can have prepared it (as with mktemp -d). It is created 0700 and
 * the files in it are created exclusively (O_EXCL), owner-only. The run step
 * removes it whatever the outcome; after an earlier failure the harvest does.
 */
#include "ssh_session_int.h"

#include "cb_text.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define STAGE_MKDIR_TRIES 3

/* A failed SFTP request: the server's status code says why, in words. */
static int sftp_fail(struct cb_bs_session *s, int rc, const char *what, const char *path)
{
    if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL || s->sftp == NULL)
        return bs_ssh_fail(s, rc, what);
    unsigned long fx = libssh2_sftp_last_error(s->sftp);
    const char *why = fx == LIBSSH2_FX_PERMISSION_DENIED    ? "permission denied"
                      : fx == LIBSSH2_FX_NO_SUCH_FILE ||
                                fx == LIBSSH2_FX_NO_SUCH_PATH ? "no such file or directory"
                      : fx == LIBSSH2_FX_FILE_ALREADY_EXISTS  ? "already exists"
                      : fx == LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM ||
                                fx == LIBSSH2_FX_QUOTA_EXCEEDED ? "no space left"
                                                                : "failed";
    return bs_failf(s, CB_ERR_IO, "%s %s: %s (SFTP status %lu)", what, path, why, fx);
}

static void stage_name(struct cb_bs_session *s)
{
    unsigned char rnd[16];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    char hex[2 * sizeof rnd + 1];
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    snprintf(s->stage, sizeof s->stage, "%s/tmp/cloudburst.%s", s->root != NULL ? s->root : "",
             hex);
}

int bs_do_stage(struct cb_bs_session *s)
{
    if (s->sftp == NULL) {
        s->sftp = libssh2_sftp_init(s->ssh);
        if (s->sftp == NULL) {
            int rc = libssh2_session_last_errno(s->ssh);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return RC_AGAIN;
            return bs_ssh_fail(s, rc,
                               "cannot start SFTP (the node's sshd needs its sftp subsystem)");
        }
        stage_name(s);
    }
    int rc = libssh2_sftp_mkdir_ex(s->sftp, s->stage, (unsigned)strlen(s->stage), 0700);
    if (rc == LIBSSH2_ERROR_EAGAIN)
        return RC_AGAIN;
    if (rc != 0) {
        /* A name that exists was not ours: draw another. */
        if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL &&
            libssh2_sftp_last_error(s->sftp) == LIBSSH2_FX_FILE_ALREADY_EXISTS &&
            ++s->stage_tries < STAGE_MKDIR_TRIES) {
            stage_name(s);
            return RC_DONE;
        }
        char path[STAGE_PATH_MAX];
        cb_strlcpy(path, s->stage, sizeof path);
        s->stage[0] = '\0'; /* nothing of ours to remove */
        return sftp_fail(s, rc, "cannot create the staging directory", path);
    }
    s->file_idx = 0;
    s->file_off = 0;
    bs_slog(s, CB_LOG_DEBUG, "staging in %s, upload started (%zu files)", s->stage, s->files.n);
    bs_step_to(s, CB_BS_UPLOAD);
    return RC_DONE;
}

int bs_do_upload(struct cb_bs_session *s)
{
    while (s->file_idx < s->files.n) {
        const struct cb_node_file *f = &s->files.f[s->file_idx];
        char path[STAGE_PATH_MAX + sizeof f->name + 1];
        snprintf(path, sizeof path, "%s/%s", s->stage, f->name);
        if (s->fh == NULL) {
            /* The staging copy stays private: owner bits only. */
            s->fh = libssh2_sftp_open_ex(s->sftp, path, (unsigned)strlen(path),
                                         LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL,
                                         (long)(f->mode & 0700), LIBSSH2_SFTP_OPENFILE);
            if (s->fh == NULL) {
                int rc = libssh2_session_last_errno(s->ssh);
                if (rc == LIBSSH2_ERROR_EAGAIN)
                    return RC_AGAIN;
                return sftp_fail(s, rc, "cannot create", path);
            }
            s->file_off = 0;
        }
        while (s->file_off < f->len) {
            /* After EAGAIN libssh2 wants the same buffer again: it is. */
            ssize_t w = libssh2_sftp_write(s->fh, f->data + s->file_off, f->len - s->file_off);
            if (w == LIBSSH2_ERROR_EAGAIN)
                return RC_AGAIN;
            if (w < 0)
                return sftp_fail(s, (int)w, "cannot write", path);
            s->file_off += (size_t)w;
        }
        /* Close reports the outcome of the last pipelined writes. */
        int rc = libssh2_sftp_close_handle(s->fh);
        if (rc == LIBSSH2_ERROR_EAGAIN)
            return RC_AGAIN;
        s->fh = NULL; /* freed by libssh2 whatever the outcome */
        if (rc != 0)
            return sftp_fail(s, rc, "cannot write", path);
        bs_slog(s, CB_LOG_DEBUG, "uploaded %s (%zu bytes)", f->name, f->len);
        s->file_idx++;
    }
    int rc = libssh2_sftp_shutdown(s->sftp);
    if (rc == LIBSSH2_ERROR_EAGAIN)
        return RC_AGAIN;
    s->sftp = NULL; /* freed by libssh2 whatever the outcome */
    if (rc != 0)
        return bs_ssh_fail(s, rc, "closing SFTP");
    bs_chan_reset(s);
    bs_step_to(s, CB_BS_RUN);
    return RC_DONE;
}

void bs_sftp_abort(struct cb_bs_session *s)
{
    /* Blocking mode and a shut-down socket: each call fails at once and
     * frees what it owns. */
    if (s->fh != NULL)
        (void)libssh2_sftp_close_handle(s->fh);
    s->fh = NULL;
    if (s->sftp != NULL)
        (void)libssh2_sftp_shutdown(s->sftp);
    s->sftp = NULL;
}
