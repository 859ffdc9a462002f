/* ssh_steps: what a session does after the upload — run the bootstrap
 * script or a command, harvest logs after a failure, and write the node's
 * bootstrap.log. See ssh_session_int.h and bootstrap.h. */
#include "ssh_session_int.h"

#include "cb_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- steps after login ------------------------------------------------- */

int bs_do_run(struct cb_bs_session *s)
{
    if (s->chan.cmd == NULL) {
        char qs[STAGE_PATH_MAX * 4 + 8], qr[4200] = "";
        const char *root = s->root;
        if (cb_shell_quote(qs, sizeof qs, s->stage) != 0 ||
            (root != NULL && cb_shell_quote(qr, sizeof qr, root) != 0))
            return bs_failf(s, CB_ERR_INVALID, "node_root cannot be quoted");
        size_t n = 3 * sizeof qs + sizeof qr + 128;
        char *inner = malloc(n);
        if (inner == NULL)
            return bs_failf(s, CB_ERR_INTERNAL, "out of memory");
        snprintf(inner, n, "%s%s sh %s/" CB_NODE_FILE_SCRIPT " %s", root != NULL ? "CB_ROOT=" : "",
                 qr, qs, qs);
        char *priv = bs_privileged(s, inner);
        free(inner);
        /* The staging copy holds the token: remove it whatever the outcome. */
        char *cmd = NULL;
        if (priv != NULL && (cmd = malloc(strlen(priv) + 2 * sizeof qs + 64)) != NULL)
            sprintf(cmd, "%s; rc=$?; rm -rf %s; exit $rc", priv, qs);
        free(priv);
        if (bs_exec_setup(s, cmd) != RC_DONE)
            return RC_FAIL;
        bs_slog(s, CB_LOG_DEBUG, "running the bootstrap script");
    }
    int rc = bs_chan_run(s);
    if (rc != RC_DONE)
        return rc;
    s->exit_status = s->chan.exit_status;
    s->run_out = s->chan.out;
    s->run_err = s->chan.err;
    memset(&s->chan.out, 0, sizeof s->chan.out);
    memset(&s->chan.err, 0, sizeof s->chan.err);
    if (s->exit_status != 0) {
        char last[300] = "";
        const char *e = s->run_err.p != NULL && s->run_err.len > 0 ? s->run_err.p : s->run_out.p;
        if (e != NULL) {
            /* The last non-empty line is the script's own verdict. */
            size_t len = strlen(e);
            while (len > 0 && (e[len - 1] == '\n' || e[len - 1] == '\r'))
                len--;
            size_t st = len;
            while (st > 0 && e[st - 1] != '\n')
                st--;
            char line[300];
            size_t ll = len - st < sizeof line - 1 ? len - st : sizeof line - 1;
            memcpy(line, e + st, ll);
            line[ll] = '\0';
            cb_sanitize(last, sizeof last, line);
        }
        return bs_failf(s, CB_ERR_PERMANENT, "bootstrap script exited with status %d%s%s",
                     s->exit_status, last[0] != '\0' ? ": " : "", last);
    }
    s->step = CB_BS_DONE;
    return RC_DONE;
}

int bs_do_command(struct cb_bs_session *s)
{
    if (s->chan.cmd == NULL && bs_exec_setup(s, bs_privileged(s, s->command)) != RC_DONE)
        return RC_FAIL;
    int rc = bs_chan_run(s);
    if (rc != RC_DONE)
        return rc;
    s->exit_status = s->chan.exit_status;
    s->run_out = s->chan.out;
    s->run_err = s->chan.err;
    memset(&s->chan.out, 0, sizeof s->chan.out);
    memset(&s->chan.err, 0, sizeof s->chan.err);
    if (s->exit_status != 0)
        return bs_failf(s, CB_ERR_PERMANENT, "command exited with status %d", s->exit_status);
    s->step = CB_BS_DONE;
    return RC_DONE;
}

static int bs_mkdir_p(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Where this node's evidence goes: <state_dir>/nodes/<node_id>. */
int bs_harvest_dir(struct cb_bs_session *s)
{
    const char *sd = s->sh->o->state_dir;
    if (sd == NULL || sd[0] == '\0')
        return -1;
    snprintf(s->harvest_dir, sizeof s->harvest_dir, "%s/nodes/%s", sd, s->node_id);
    if (bs_mkdir_p(s->harvest_dir) != 0) {
        bs_slog(s, CB_LOG_ERROR, "cannot create %s: %s", s->harvest_dir, strerror(errno));
        s->harvest_dir[0] = '\0';
        return -1;
    }
    return 0;
}

int bs_do_harvest(struct cb_bs_session *s)
{
    if (s->chan.cmd == NULL) {
        char path[600], qr[4200];
        const char *root = s->root != NULL ? s->root : "";
        snprintf(path, sizeof path, "%s/logs.tar.gz", s->harvest_dir);
        if (cb_shell_quote(qr, sizeof qr, root) != 0)
            return RC_FAIL;
        /* A failure before the run leaves the staging copy (with the token)
         * behind: remove it first. */
        char qs[STAGE_PATH_MAX * 4 + 8] = "''";
        if (s->stage[0] != '\0' && cb_shell_quote(qs, sizeof qs, s->stage) != 0)
            return RC_FAIL;
        char inner[4600 + sizeof qs];
        snprintf(inner, sizeof inner,
                 "rm -rf %s; cd %s/ || exit 3; set --; for p in var/log/condor var/log/cloud-init.log "
                 "var/log/cloud-init-output.log var/log/cvmfs var/log/cloudburst-bootstrap.log; "
                 "do [ -e \"$p\" ] && set -- \"$@\" \"$p\"; done; [ $# -gt 0 ] || exit 3; "
                 "exec tar -czf - \"$@\"",
                 s->stage[0] != '\0' ? qs : "''", qr);
        if (bs_exec_setup(s, bs_privileged(s, inner)) != RC_DONE)
            return RC_FAIL;
        s->chan.out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (s->chan.out_fd < 0)
            return RC_FAIL;
    }
    int rc = bs_chan_run(s);
    if (rc != RC_DONE)
        return rc;
    close(s->chan.out_fd);
    s->chan.out_fd = -1;
    if (s->chan.exit_status != 0)
        bs_slog(s, CB_LOG_WARNING, "log harvest exited with status %d", s->chan.exit_status);
    else
        bs_slog(s, CB_LOG_NOTICE, "logs harvested into %s/logs.tar.gz", s->harvest_dir);
    s->step = CB_BS_DONE;
    return RC_DONE;
}

/* bootstrap.log: the error and the script's output, for the admin. */
void bs_write_report_file(struct cb_bs_session *s)
{
    char path[600], ebuf[CB_ERR_ORIGIN_MAX + CB_ERR_MSG_MAX + 4];
    snprintf(path, sizeof path, "%s/bootstrap.log", s->harvest_dir);
    FILE *f = fopen(path, "we");
    if (f == NULL)
        return;
    char *o = s->run_out.p != NULL ? strdup(s->run_out.p) : NULL;
    char *e = s->run_err.p != NULL ? strdup(s->run_err.p) : NULL;
    fprintf(f, "node: %s\naddress: %s\nhost key: %s\nfailed step: %s\nerror: %s\nexit status: %d\n",
            s->node_id, s->address, s->host_key, cb_bootstrap_step_name(s->failed_step),
            cb_err_format(&s->err, ebuf, sizeof ebuf), s->exit_status);
    /* Keep newlines, neutralise everything else that could drive a terminal. */
    for (char *p = o; p != NULL && *p != '\0'; p++)
        if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            *p = '?';
    for (char *p = e; p != NULL && *p != '\0'; p++)
        if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            *p = '?';
    fprintf(f, "--- stdout ---\n%s\n--- stderr ---\n%s\n", o != NULL ? o : "", e != NULL ? e : "");
    free(o);
    free(e);
    fclose(f);
}
