/* harness: see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int h_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc))
        return -1;
    return WEXITSTATUS(rc);
}

char *h_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while (b != NULL && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (nb == NULL) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b != NULL)
        b[n] = '\0';
    return b;
}

int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static const char *envs(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' && strcmp(v, "no") != 0 ? v : dflt;
}

int h_env_init(struct h_env *env, char *why, size_t why_len)
{
    memset(env, 0, sizeof *env);
    snprintf(env->sshd, sizeof env->sshd, "%s", envs("SSHD", "/usr/sbin/sshd"));
    snprintf(env->keygen, sizeof env->keygen, "%s", envs("SSH_KEYGEN", "/usr/bin/ssh-keygen"));
    snprintf(env->srcdir, sizeof env->srcdir, "%s", envs("top_srcdir", "."));
    if (access(env->sshd, X_OK) != 0 || access(env->keygen, X_OK) != 0) {
        snprintf(why, why_len, "sshd (%s) or ssh-keygen (%s) not available: install openssh-server",
                 env->sshd, env->keygen);
        return 77;
    }
    struct passwd *pw = getpwuid(geteuid());
    if (pw == NULL) {
        snprintf(why, why_len, "current user has no passwd entry");
        return 77;
    }
    snprintf(env->user, sizeof env->user, "%s", pw->pw_name);
    if (geteuid() == 0 && mkdir("/run/sshd", 0755) != 0 && errno != EEXIST) {
        snprintf(why, why_len, "sshd needs /run/sshd (privilege separation) and it cannot be made");
        return 77;
    }
    const char *tmp = envs("TMPDIR", "/tmp");
    snprintf(env->dir, sizeof env->dir, "%s/cb-bootstrap-test.XXXXXX", tmp);
    if (mkdtemp(env->dir) == NULL) {
        snprintf(why, why_len, "mkdtemp: %s", strerror(errno));
        return 99;
    }
    snprintf(env->key_ed25519, H_PATH, "%s/id_ed25519", env->dir);
    snprintf(env->key_rsa, H_PATH, "%s/id_rsa", env->dir);
    snprintf(env->key_wrong, H_PATH, "%s/id_wrong", env->dir);
    snprintf(env->authorized, H_PATH, "%s/authorized_keys", env->dir);
    snprintf(env->known_hosts, H_PATH, "%s/known_hosts", env->dir);
    snprintf(env->state_dir, H_PATH, "%s/state", env->dir);
    snprintf(env->script_dir, H_PATH, "%s/images", env->srcdir);
    if (h_sh("'%s' -q -t ed25519 -N '' -C cb-test -f '%s' && '%s' -q -t rsa -b 2048 -N '' -C "
             "cb-test -f '%s' && '%s' -q -t ed25519 -N '' -C wrong -f '%s' && cat '%s.pub' "
             "'%s.pub' > '%s' && mkdir -p '%s'",
             env->keygen, env->key_ed25519, env->keygen, env->key_rsa, env->keygen,
             env->key_wrong, env->key_ed25519, env->key_rsa, env->authorized,
             env->state_dir) != 0) {
        snprintf(why, why_len, "ssh-keygen failed");
        return 99;
    }
    return 0;
}

void h_env_cleanup(struct h_env *env)
{
    if (env->dir[0] != '\0' && getenv("CB_KEEP_TEST_DIR") == NULL)
        h_sh("rm -rf '%s'", env->dir);
}

static int write_config(struct h_env *env, struct h_node *n)
{
    char path[H_PATH + 32];
    snprintf(path, sizeof path, "%s/sshd_config", n->dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f,
            "Port %d\nListenAddress 127.0.0.1\nHostKey %s/ssh_host_ed25519_key\n"
            "PidFile %s/sshd.pid\nAuthorizedKeysFile %s\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\nMaxStartups %d:100:%d\nMaxSessions 20\n"
            "LoginGraceTime 60\nLogLevel ERROR\n"
            /* TMPDIR: the node's staging directories stay inside the test.
             * Debian's bash sources ~/.bashrc for every command sshd runs
             * (SSH_SOURCE_BASHRC) unless it is a nested shell; a developer's
             * heavy .bashrc (pyenv init) would then dominate every step. */
            "SetEnv SHLVL=1 TMPDIR=%s/tmp\n",
            n->port, n->dir, n->dir, env->authorized, n->max_sessions, n->max_sessions + 1,
            n->dir);
    /* Debian 12's libssh2 (1.10) signs RSA user keys only as ssh-rsa (SHA-1),
     * which OpenSSH >= 8.8 refuses unless allowed, as older images do. */
    if (!n->no_sftp)
        fprintf(f, "Subsystem sftp internal-sftp\n");
    if (env->allow_ssh_rsa)
        fprintf(f, "PubkeyAcceptedAlgorithms +ssh-rsa\n");
    return fclose(f);
}

static int start_sshd(struct h_env *env, struct h_node *n)
{
    char cfg[H_PATH + 32], logp[H_PATH + 32];
    snprintf(cfg, sizeof cfg, "%s/sshd_config", n->dir);
    snprintf(logp, sizeof logp, "%s/sshd.log", n->dir);
    if (write_config(env, n) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        /* If the test dies (an ASan abort), its sshds must not outlive it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execl(env->sshd, env->sshd, "-D", "-e", "-f", cfg, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    n->pid = pid;
    /* Ready when it accepts a connection; give up if it exits. */
    for (int i = 0; i < 200; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            n->pid = -1;
            return -1;
        }
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)n->port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return 0;
        struct timespec ts = { 0, 25 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    h_node_stop(n);
    return -1;
}

int h_node_start(struct h_env *env, struct h_node *n, const char *id, int max_sessions,
                 char *why, size_t why_len)
{
    memset(n, 0, sizeof *n);
    n->pid = -1;
    n->max_sessions = max_sessions > 0 ? max_sessions : 10;
    snprintf(n->id, sizeof n->id, "%s", id);
    snprintf(n->dir, sizeof n->dir, "%s/node-%s", env->dir, id);
    snprintf(n->root, sizeof n->root, "%s/root", n->dir);
    /* The root looks like a worker image with the HTCondor and CVMFS
     * packages' directories (their tools are the stand-ins). */
    if (h_sh("mkdir -p '%s/tmp' '%s/tmp' '%s/usr/bin' '%s/etc' && cd '%s' && mkdir -p var/log/condor "
             "var/log/cvmfs run/condor etc/condor/config.d etc/condor/tokens.d etc/cvmfs/config.d "
             "usr/libexec/cloudburst && chmod 0700 etc/condor/tokens.d && cp '%s'/tests/bootstrap/standins/* '%s/usr/bin/' "
             "&& chmod 755 '%s'/usr/bin/* && printf 'ID=debian\\nVERSION_ID=12\\n' > '%s/etc/os-release' "
             "&& '%s' -q -t ed25519 -N '' -C %s -f '%s/ssh_host_ed25519_key'",
             n->dir, n->root, n->root, n->root, n->root, env->srcdir, n->root, n->root, n->root, env->keygen, id,
             n->dir) != 0) {
        snprintf(why, why_len, "cannot create node %s", id);
        return 99;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        n->port = h_free_port();
        if (n->port > 0 && start_sshd(env, n) == 0)
            return 0;
    }
    char logp[H_PATH + 32];
    snprintf(logp, sizeof logp, "%s/sshd.log", n->dir);
    char *log = h_read(logp);
    snprintf(why, why_len, "sshd refuses to start: %.300s", log != NULL ? log : "(no log)");
    free(log);
    return 77;
}

int h_node_restart(struct h_env *env, struct h_node *n, bool new_host_key)
{
    h_node_stop(n);
    if (new_host_key &&
        h_sh("rm -f '%s/ssh_host_ed25519_key' '%s/ssh_host_ed25519_key.pub' && '%s' -q -t "
             "ed25519 -N '' -C %s-new -f '%s/ssh_host_ed25519_key'",
             n->dir, n->dir, env->keygen, n->id, n->dir) != 0)
        return -1;
    return start_sshd(env, n);
}

/* sshd puts each connection in its own session (setsid), so the process
 * group does not reach them: kill the tree by parent ids from /proc. */
static void kill_tree(pid_t pid)
{
    DIR *d = opendir("/proc");
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char path[300];
            int child = atoi(e->d_name);
            if (child <= 0)
                continue;
            snprintf(path, sizeof path, "/proc/%d/stat", child);
            char *st = h_read(path);
            const char *rp = st != NULL ? strrchr(st, ')') : NULL;
            int ppid = 0;
            char state;
            if (rp != NULL && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == pid)
                kill_tree(child);
            free(st);
        }
        closedir(d);
    }
    kill(pid, SIGKILL);
}

void h_node_kill_sessions(struct h_node *n)
{
    if (n->pid > 0)
        kill_tree(n->pid);
}

void h_node_stop(struct h_node *n)
{
    if (n->pid > 0) {
        kill_tree(n->pid);
        kill(-n->pid, SIGKILL);
        kill(n->pid, SIGKILL);
        waitpid(n->pid, NULL, 0);
        n->pid = -1;
    }
}
