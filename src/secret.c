/* secret: see secret.h. Modelled on OpenSSH's rule that a key file is checked
 * before it is trusted, but on the open descriptor (no stat/open race). */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_file(int fd, const char *path, struct cb_err *err)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return cb_err_errno(err, CB_ERR_IO, errno, path, "cannot stat secret file %s", path);
    if (!S_ISREG(st.st_mode))
        return cb_err_set(err, CB_ERR_INVALID, path, "%s is not a regular file: refused", path);
    unsigned mode = (unsigned)(st.st_mode & 07777);
    if (mode & (S_IRGRP | S_IROTH))
        return cb_err_set(err, CB_ERR_INVALID, path,
                          "%s mode %04o: must not be readable by group or others (chmod 600)",
                          path, mode);
    if (mode & (S_IWGRP | S_IWOTH))
        return cb_err_set(err, CB_ERR_INVALID, path,
                          "%s mode %04o: must not be writable by group or others (chmod 600)",
                          path, mode);
    if (mode & (S_IXGRP | S_IXOTH))
        return cb_err_set(err, CB_ERR_INVALID, path,
                          "%s mode %04o: must grant group and others no access (chmod 600)",
                          path, mode);
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return cb_err_set(err, CB_ERR_INVALID, path,
                          "%s is owned by uid %u: must be owned by the service user (uid %u) "
                          "or root", path, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_size > CB_SECRET_MAX)
        return cb_err_set(err, CB_ERR_INVALID, path,
                          "%s is %lld bytes: a secret file may hold at most %d bytes", path,
                          (long long)st.st_size, CB_SECRET_MAX);
    return 0;
}

int cb_secret_read(struct cb_secret *out, const char *path, struct cb_err *err)
{
    out->data = NULL;
    out->len = 0;
    if (path == NULL || path[0] != '/')
        return cb_err_set(err, CB_ERR_INVALID, path ? path : "", "secret file path '%s' is "
                          "not absolute", path ? path : "");

    /* O_NONBLOCK: a FIFO planted at the path must not hang the loader; it is
     * refused by the regular-file check right after. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP)
            return cb_err_set(err, CB_ERR_INVALID, path,
                              "%s is a symbolic link: refused (name the file itself)", path);
        return cb_err_errno(err, CB_ERR_IO, errno, path, "cannot open secret file %s", path);
    }
    if (check_file(fd, path, err) != 0) {
        close(fd);
        return -1;
    }

    /* Read to the cap plus one byte: the file may have grown since fstat. */
    char *buf = malloc(CB_SECRET_MAX + 2);
    if (buf == NULL) {
        close(fd);
        return cb_err_set(err, CB_ERR_INTERNAL, path, "out of memory reading %s", path);
    }
    size_t n = 0;
    int rc = 0;
    while (n < CB_SECRET_MAX + 1) {
        ssize_t r = read(fd, buf + n, CB_SECRET_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = cb_err_errno(err, CB_ERR_IO, errno, path, "cannot read secret file %s", path);
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (rc == 0 && n > CB_SECRET_MAX)
        rc = cb_err_set(err, CB_ERR_INVALID, path,
                        "%s holds more than %d bytes: refused", path, CB_SECRET_MAX);
    if (rc == 0 && n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
    }
    if (rc == 0 && n == 0)
        rc = cb_err_set(err, CB_ERR_INVALID, path, "%s is empty", path);
    if (rc != 0) {
        explicit_bzero(buf, CB_SECRET_MAX + 2);
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    /* Give back the unused tail; the copy keeps the secret in one place. */
    char *small = malloc(n + 1);
    if (small == NULL) {
        explicit_bzero(buf, CB_SECRET_MAX + 2);
        free(buf);
        return cb_err_set(err, CB_ERR_INTERNAL, path, "out of memory reading %s", path);
    }
    memcpy(small, buf, n + 1);
    explicit_bzero(buf, CB_SECRET_MAX + 2);
    free(buf);
    out->data = small;
    out->len = n;
    return 0;
}

void cb_secret_wipe(struct cb_secret *s)
{
    if (s == NULL)
        return;
    if (s->data != NULL) {
        explicit_bzero(s->data, s->len + 1);
        free(s->data);
    }
    s->data = NULL;
    s->len = 0;
}
