/* fake_server: see fake_server.h. */
#include "fake_server.h"
#include "cb_http.h"
#include "cb_text.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64

int fake_server_mkdir(struct fake_server *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cb-fake-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        f->dir[0] = '\0';
        return -1;
    }
    return 0;
}

int fake_server_start(struct fake_server *f, const struct fake_server_opts *o, char *msg,
                      size_t len)
{
    char dir[sizeof f->dir];
    cb_strlcpy(dir, f->dir, sizeof dir); /* prepared by fake_server_mkdir, or "" */
    memset(f, 0, sizeof *f);
    cb_strlcpy(f->dir, dir, sizeof f->dir);
    const char *top = o->srcdir ? o->srcdir : getenv("top_srcdir");
    const char *py = o->python ? o->python : getenv("PYTHON3");
    if (top == NULL || top[0] == '\0')
        top = ".";
    if (py == NULL || py[0] == '\0' || strcmp(py, "no") == 0)
        py = "python3";
    if (f->dir[0] == '\0' && fake_server_mkdir(f) != 0) {
        snprintf(msg, len, "mkdtemp failed");
        return -1;
    }
    char script[4096], portfile[256];
    snprintf(script, sizeof script, "%s/tests/fake/%s", top, o->script);
    snprintf(portfile, sizeof portfile, "%s/port", f->dir);
    const char *argv[MAX_ARGS] = { py, script, "--port-file", portfile };
    size_t n = 4;
    for (size_t i = 0; o->args != NULL && o->args[i] != NULL; i++) {
        if (n >= MAX_ARGS - 1) {
            snprintf(msg, len, "more than %d arguments for %s", MAX_ARGS - 5, o->script);
            fake_server_stop(f);
            return -1;
        }
        argv[n++] = o->args[i];
    }
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, len, "fork failed");
        fake_server_stop(f);
        return -1;
    }
    if (pid == 0) {
        /* A failing case exits without teardown: the fake must not outlive it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        if (o->quiet) {
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0)
                dup2(devnull, 1);
        }
        execvp(py, (char *const *)argv);
        _exit(127);
    }
    f->pid = pid;
    for (int i = 0; i < 1500; i++) {
        FILE *pf = fopen(portfile, "r");
        if (pf != NULL) {
            int ok = fscanf(pf, "%d", &f->port) == 1;
            fclose(pf);
            if (ok) {
                snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", f->port);
                return 0;
            }
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            f->pid = 0;
            snprintf(msg, len, "%s exited (status %d) before listening", o->script, status);
            fake_server_stop(f);
            return -1;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    snprintf(msg, len, "%s did not start within 30 s", o->script);
    fake_server_stop(f);
    return -1;
}

void fake_server_stop(struct fake_server *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
        f->pid = 0;
    }
    if (f->dir[0] == '\0')
        return;
    /* Only regular files are put there (port file, pools, state files). */
    DIR *d = opendir(f->dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    f->dir[0] = '\0';
}

const char *fake_server_path(const struct fake_server *f, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", f->dir, name);
    return buf;
}

char *fake_server_call(const struct fake_server *f, const char *method, const char *path,
                       const char *body)
{
    struct cb_http *h;
    struct cb_err err = CB_ERR_INIT;
    struct cb_http_response resp;
    char url[512];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    if (cb_http_new(&h, &err) != 0)
        return NULL;
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    struct cb_http_request req = { .method = method, .url = url, .headers = hdrs, .body = body,
                                   .body_len = body ? strlen(body) : 0, .timeout_ms = 60000 };
    char *out = NULL;
    if (cb_http_perform(h, "fake", &req, &resp, &err) == 0 && resp.status == 200) {
        out = resp.body;
        resp.body = NULL;
    }
    cb_http_response_free(&resp);
    cb_http_free(h);
    return out;
}
