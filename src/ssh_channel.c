/* ssh_channel: one exec channel to the node, with optional stdin, driven as
 * a small non-blocking state machine, with capped output buffers. See
 * ssh_session_int.h. */
#include "ssh_session_int.h"

#include "cb_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bs_buf_add(struct buf *b, const char *p, size_t n)
{
    if (b->p == NULL) {
        b->p = malloc(b->max + 1);
        if (b->p == NULL) {
            b->trunc = true;
            return;
        }
        b->p[0] = '\0';
    }
    size_t room = b->max - b->len;
    if (n > room) {
        b->trunc = true;
        n = room;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void bs_buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

/* ---- channels ---------------------------------------------------------- */

void bs_chan_reset(struct cb_bs_session *s)
{
    free(s->chan.cmd);
    bs_buf_free(&s->chan.out);
    bs_buf_free(&s->chan.err);
    memset(&s->chan, 0, sizeof s->chan);
    s->chan.out_fd = -1;
    s->chan.exit_status = -1;
    s->chan.out.max = s->sh->output_max;
    s->chan.err.max = s->sh->output_max;
}

/* Returns RC_DONE when the channel closed (exit status in chan.exit_status). */
int bs_chan_run(struct cb_bs_session *s)
{
    struct chan *c = &s->chan;
    int rc;
    char tmp[16384];
    for (;;) {
        switch (c->sub) {
        case CH_OPEN:
            s->ch = libssh2_channel_open_session(s->ssh);
            if (s->ch == NULL) {
                rc = libssh2_session_last_errno(s->ssh);
                if (rc == LIBSSH2_ERROR_EAGAIN)
                    return RC_AGAIN;
                return bs_ssh_fail(s, rc, "open channel");
            }
            c->sub = CH_EXEC;
            break;
        case CH_EXEC:
            rc = libssh2_channel_exec(s->ch, c->cmd);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return RC_AGAIN;
            if (rc != 0)
                return bs_ssh_fail(s, rc, "exec");
            c->sub = CH_WRITE;
            break;
        case CH_WRITE:
            while (c->in_off < c->in_len) {
                size_t n = c->in_len - c->in_off;
                ssize_t w = libssh2_channel_write(s->ch, c->in + c->in_off, n > 32768 ? 32768 : n);
                if (w == LIBSSH2_ERROR_EAGAIN)
                    return RC_AGAIN;
                if (w < 0)
                    return bs_ssh_fail(s, (int)w, "write");
                c->in_off += (size_t)w;
            }
            c->sub = CH_EOF;
            break;
        case CH_EOF:
            rc = libssh2_channel_send_eof(s->ch);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return RC_AGAIN;
            if (rc != 0)
                return bs_ssh_fail(s, rc, "send EOF");
            c->sub = CH_READ;
            break;
        case CH_READ: {
            bool again = false;
            for (int stream = 0; stream < 2; stream++) {
                for (;;) {
                    ssize_t n = libssh2_channel_read_ex(s->ch, stream, tmp, sizeof tmp);
                    if (n == LIBSSH2_ERROR_EAGAIN) {
                        again = true;
                        break;
                    }
                    if (n < 0)
                        return bs_ssh_fail(s, (int)n, "read");
                    if (n == 0)
                        break;
                    if (stream == 0 && c->out_fd >= 0) {
                        if (c->out_fd_bytes + (size_t)n > HARVEST_MAX)
                            return bs_failf(s, CB_ERR_IO, "harvested logs exceed %u bytes",
                                         HARVEST_MAX);
                        if (write(c->out_fd, tmp, (size_t)n) != n)
                            return bs_failf(s, CB_ERR_IO, "cannot write harvested logs: %s",
                                         strerror(errno));
                        c->out_fd_bytes += (size_t)n;
                    } else {
                        bs_buf_add(stream == 0 ? &c->out : &c->err, tmp, (size_t)n);
                    }
                }
            }
            if (!libssh2_channel_eof(s->ch))
                return again ? RC_AGAIN : RC_AGAIN;
            c->sub = CH_CLOSE;
            break;
        }
        case CH_CLOSE:
            rc = libssh2_channel_close(s->ch);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return RC_AGAIN;
            if (rc != 0)
                return bs_ssh_fail(s, rc, "close channel");
            c->sub = CH_WAITCLOSED;
            break;
        case CH_WAITCLOSED:
            rc = libssh2_channel_wait_closed(s->ch);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return RC_AGAIN;
            if (rc != 0)
                return bs_ssh_fail(s, rc, "wait for channel close");
            c->exit_status = libssh2_channel_get_exit_status(s->ch);
            c->sub = CH_FREE;
            break;
        case CH_FREE:
            rc = libssh2_channel_free(s->ch);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return RC_AGAIN;
            s->ch = NULL;
            return RC_DONE;
        }
    }
}

/* Wrap a command for sudo (when configured) as `sudo -n sh -c '<cmd>'`. */
char *bs_privileged(struct cb_bs_session *s, const char *cmd)
{
    size_t n = strlen(cmd) * 4 + 64;
    char *q = malloc(n), *out = malloc(n + 32);
    if (q == NULL || out == NULL || cb_shell_quote(q, n, cmd) != 0) {
        free(q);
        free(out);
        return NULL;
    }
    snprintf(out, n + 32, "%ssh -c %s", s->sh->o->sudo ? "sudo -n " : "", q);
    free(q);
    return out;
}

int bs_exec_setup(struct cb_bs_session *s, char *cmd)
{
    bs_chan_reset(s);
    if (cmd == NULL)
        return bs_failf(s, CB_ERR_INTERNAL, "out of memory");
    s->chan.cmd = cmd;
    return RC_DONE;
}
