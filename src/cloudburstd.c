/* cloudburstd: command line, logging set-up, and the hand-over to the daemon loop.
 * The only place (with the other main()s) that may exit the process. */
#include "cb_autoconf.h"
#include "config.h"
#include "daemon.h"
#include "log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

enum { EXIT_OK = 0, EXIT_FAILURE_RUN = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: cloudburstd [OPTION]...\n"
            "Burst an HTCondor pool into clouds: watch the queue, boot, bootstrap,\n"
            "drain and terminate cloud nodes.\n"
            "\n"
            "  -c, --config FILE        configuration file (default %s)\n"
            "      --provider-dir DIR   load provider drivers from DIR instead of\n"
            "                           controller.provider_dir\n"
            "  -1, --once               run a single cycle, then exit\n"
            "  -n, --dry-run            shadow mode: observe and decide, never act\n"
            "  -t, --check-config       validate the configuration, print the effective\n"
            "                           settings (secrets redacted) and exit 0 or 1\n"
            "  -l, --log-level LEVEL    error, warning, notice, info or debug\n"
            "                           (overrides log.level)\n"
            "      --stderr             log to stderr even if log.target is syslog\n"
            "  -h, --help               show this help and exit\n"
            "  -V, --version            show the version and exit\n"
            "\n"
            "Signals: SIGTERM/SIGINT finish the cycle in progress and exit 0;\n"
            "SIGHUP reloads the configuration (an invalid one is logged and ignored).\n"
            "Exit status: 0 success, 1 failure (one line on stderr says why), 2 usage error.\n"
            "See cloudburstd(8) and cloudburst.conf(5).\n",
            CB_DEFAULT_CONFIG_FILE);
}

static int facility_from_name(const char *name)
{
    static const struct { const char *name; int facility; } map[] = {
        { "daemon", LOG_DAEMON }, { "user", LOG_USER },     { "local0", LOG_LOCAL0 },
        { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
        { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
        { "local7", LOG_LOCAL7 },
    };
    for (size_t i = 0; name != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(name, map[i].name) == 0)
            return map[i].facility;
    return LOG_DAEMON;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "provider-dir", required_argument, NULL, 'P' },
        { "once", no_argument, NULL, '1' },
        { "dry-run", no_argument, NULL, 'n' },
        { "check-config", no_argument, NULL, 't' },
        { "log-level", required_argument, NULL, 'l' },
        { "stderr", no_argument, NULL, 'E' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct cb_daemon_options opts = { .config_path = CB_DEFAULT_CONFIG_FILE, .log_level = -1 };
    bool check_config = false, force_stderr = false, have_level = false;
    enum cb_log_level level = CB_LOG_INFO;
    int c;

    while ((c = getopt_long(argc, argv, "c:1ntl:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': opts.config_path = optarg; break;
        case 'P': opts.provider_dir = optarg; break;
        case '1': opts.once = true; break;
        case 'n': opts.dry_run = true; break;
        case 't': check_config = true; break;
        case 'E': force_stderr = true; break;
        case 'l':
            if (cb_log_level_parse(optarg, &level) != 0) {
                fprintf(stderr, "cloudburstd: --log-level: unknown level '%s' "
                                "(use error, warning, notice, info or debug)\n", optarg);
                return EXIT_USAGE;
            }
            have_level = true;
            break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'V': printf("cloudburstd %s\n", PACKAGE_VERSION); return EXIT_OK;
        default:
            fprintf(stderr, "Try 'cloudburstd --help' for more information.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cloudburstd: unexpected argument '%s'\n"
                        "Try 'cloudburstd --help' for more information.\n", argv[optind]);
        return EXIT_USAGE;
    }

    cb_log_setup("cloudburstd", CB_LOG_STDERR, 0, have_level ? level : CB_LOG_INFO);

    struct cb_err err = CB_ERR_INIT;
    char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];

    if (check_config) {
        struct cb_config *cfg = NULL;
        if (cb_config_load(&cfg, opts.config_path, opts.provider_dir, &err) != 0) {
            fprintf(stderr, "cloudburstd: %s\n", cb_err_format(&err, msg, sizeof msg));
            return EXIT_FAILURE_RUN;
        }
        int rc = cb_config_print(cfg, stdout) == 0 ? EXIT_OK : EXIT_FAILURE_RUN;
        fprintf(stderr, "cloudburstd: %s: configuration OK (%zu cloud(s))\n", opts.config_path,
                cfg->n_clouds);
        cb_config_free(cfg);
        return rc;
    }

    /* Errors before the configuration is loaded go to stderr; after that the
     * sink is the one the configuration names. */
    struct cb_config *cfg = NULL;
    if (cb_config_load(&cfg, opts.config_path, opts.provider_dir, &err) != 0) {
        fprintf(stderr, "cloudburstd: %s\n", cb_err_format(&err, msg, sizeof msg));
        return EXIT_FAILURE_RUN;
    }
    enum cb_log_target target = force_stderr ? CB_LOG_STDERR : cfg->log.target;
    opts.log_level = have_level ? (int)level : -1;
    cb_log_setup("cloudburstd", target, facility_from_name(cfg->log.facility),
                 have_level ? level : cfg->log.level);

    int rc = cb_daemon_run(&opts, cfg, &err);
    if (rc != 0 && cb_err_isset(&err)) {
        cb_error("%s", cb_err_format(&err, msg, sizeof msg));
        if (target == CB_LOG_SYSLOG)
            fprintf(stderr, "cloudburstd: %s\n", msg);
    }
    return rc;
}
