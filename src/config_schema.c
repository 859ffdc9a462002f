/* config_schema: the table of every cloudburst.conf setting (see
 * config_schema.h). Order matters: it is the order of --check-config output
 * and of cloudburst.conf(5). Defaults follow DESIGN.md and the peers' field
 * experience (breaker 5 min doubling to 30 min, as in the policy issue). */
#include "config_schema.h"
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define G(m) offsetof(struct cb_config, m)
#define C(m) offsetof(struct cb_cloud, m)
#define F(m) offsetof(struct cb_flavor, m)

#define DAY 86400.0
#define BIG 1e9

static const struct cb_cfg_word mode_words[] = {
    { "exclusive", CB_MODE_EXCLUSIVE }, { "transparent", CB_MODE_TRANSPARENT }, { NULL, 0 } };
static const struct cb_cfg_word drain_words[] = {
    { "ssh", CB_DRAIN_SSH }, { "condor_drain", CB_DRAIN_CONDOR_DRAIN }, { NULL, 0 } };
static const struct cb_cfg_word method_words[] = {
    { "ssh", CB_BOOTSTRAP_SSH }, { "cloud-init", CB_BOOTSTRAP_CLOUD_INIT }, { NULL, 0 } };
static const struct cb_cfg_word failure_words[] = {
    { "quarantine", CB_FAILURE_QUARANTINE }, { "terminate", CB_FAILURE_TERMINATE }, { NULL, 0 } };
static const struct cb_cfg_word hostkey_words[] = {
    { "strict", CB_HOSTKEY_STRICT }, { "accept-new", CB_HOSTKEY_ACCEPT_NEW },
    { "insecure", CB_HOSTKEY_INSECURE }, { NULL, 0 } };
static const struct cb_cfg_word billing_words[] = {
    { "per-second", CB_BILLING_PER_SECOND }, { "per-hour", CB_BILLING_PER_HOUR }, { NULL, 0 } };
static const struct cb_cfg_word level_words[] = {
    { "error", CB_LOG_ERROR }, { "warning", CB_LOG_WARNING }, { "notice", CB_LOG_NOTICE },
    { "info", CB_LOG_INFO }, { "debug", CB_LOG_DEBUG }, { NULL, 0 } };
static const struct cb_cfg_word target_words[] = {
    { "stderr", CB_LOG_STDERR }, { "syslog", CB_LOG_SYSLOG }, { NULL, 0 } };

/* Row builders: designated initialisers keep each row readable. */
#define GROUP(p, req, doc_, ex) \
    { .path = p, .type = CB_CFG_GROUP, .required = req, .doc = doc_, .example = ex }
#define STR(p, req, d, chk, off_, doc_, ex) \
    { .path = p, .type = CB_CFG_STRING, .required = req, .def = d, .check = chk, \
      .off = off_, .doc = doc_, .example = ex }
#define NUM(t, p, req, d, lo, hi, u, off_, doc_, ex) \
    { .path = p, .type = t, .required = req, .def = d, .min = lo, .max = hi, .units = u, \
      .off = off_, .doc = doc_, .example = ex }
#define BOOL(p, d, off_, doc_, ex) \
    { .path = p, .type = CB_CFG_BOOL, .def = d, .off = off_, .doc = doc_, .example = ex }
#define ENUM(p, d, w, off_, doc_, ex) \
    { .path = p, .type = CB_CFG_ENUM, .def = d, .words = w, .off = off_, .doc = doc_, \
      .example = ex }
#define LIST(p, lo, hi, off_, doc_, ex) \
    { .path = p, .type = CB_CFG_STRLIST, .def = "", .min = lo, .max = hi, .off = off_, \
      .doc = doc_, .example = ex }
#define SECRET(p, req, d, off_, offs, offl, doc_, ex) \
    { .path = p, .type = CB_CFG_SECRET_PATH, .required = req, .def = d, .check = CB_CHK_ABS_PATH_OPT, \
      .off = off_, .off_secret = offs, .off_len = offl, .doc = doc_, .example = ex }

const struct cb_cfg_row cb_config_schema[] = {
    /* ---- pool ---------------------------------------------------------- */
    GROUP("pool", true, "The HTCondor pool the cloud nodes join and whose queue is read.",
          "pool = { name = \"t2-example\"; central_manager = \"cm.example.org\"; };"),
    STR("pool.name", true, NULL, CB_CHK_SAFE_NAME, G(pool.name),
        "Pool name, set as the cloudburst-pool tag on every instance; instances with another tag are never touched.",
        "name = \"t2-example\";"),
    STR("pool.central_manager", true, NULL, CB_CHK_PRINTABLE, G(pool.central_manager),
        "CONDOR_HOST the cloud nodes join (host or host:port).",
        "central_manager = \"condor-cm.example.org\";"),
    STR("pool.collector", false, "", CB_CHK_NONE, G(pool.collector),
        "Collector for queries (-pool argument); empty uses the local HTCondor configuration.",
        "collector = \"condor-cm.example.org:9618\";"),
    LIST("pool.schedds", 0, CB_CONFIG_LIST_MAX, G(pool.schedds),
         "Schedd names to query; empty queries all (condor_q -global). A failing schedd makes the cycle's demand partial: no scale-down on it.",
         "schedds = [ \"ce01.example.org\", \"ce02.example.org\" ];"),
    STR("pool.condor_q", false, "/usr/bin/condor_q", CB_CHK_ABS_PATH, G(pool.condor_q),
        "Path of condor_q; a missing tool fails the cycle's observation, the daemon keeps running.",
        "condor_q = \"/usr/bin/condor_q\";"),
    STR("pool.condor_status", false, "/usr/bin/condor_status", CB_CHK_ABS_PATH, G(pool.condor_status),
        "Path of condor_status.", "condor_status = \"/usr/bin/condor_status\";"),
    STR("pool.condor_drain", false, "/usr/bin/condor_drain", CB_CHK_ABS_PATH, G(pool.condor_drain),
        "Path of condor_drain (used when drain_method is condor_drain).",
        "condor_drain = \"/usr/bin/condor_drain\";"),
    STR("pool.condor_advertise", false, "/usr/sbin/condor_advertise", CB_CHK_ABS_PATH,
        G(pool.condor_advertise),
        "Path of condor_advertise, which publishes the controller's heartbeat ad each cycle.",
        "condor_advertise = \"/usr/sbin/condor_advertise\";"),
    STR("pool.condor_off", false, "/usr/sbin/condor_off", CB_CHK_ABS_PATH, G(pool.condor_off),
        "Path of condor_off on the nodes, run over SSH as condor_off -peaceful -startd when drain_method is ssh.",
        "condor_off = \"/usr/bin/condor_off\";"),
    NUM(CB_CFG_UINT, "pool.query_timeout", false, "120", 1, 3600, "seconds", G(pool.query_timeout),
        "Deadline for one condor_q or condor_status run; a tool still running is killed and the observation is marked partial.",
        "query_timeout = 60;"),
    STR("pool.cloud_attribute", false, "IsCloudNode", CB_CHK_ATTR_NAME, G(pool.cloud_attribute),
        "Machine attribute set to True on every cloud node (STARTD_ATTRS); cloud slots are found by it.",
        "cloud_attribute = \"IsCloudNode\";"),
    STR("pool.eligibility", false, "WantCloudNode =?= True", CB_CHK_NONEMPTY, G(pool.eligibility),
        "ClassAd expression over an idle job: true when a cloud node may run it. Default for every cloud; evaluated by HTCondor itself.",
        "eligibility = \"WantCloudNode =?= True && RequestCpus <= 8\";"),
    STR("pool.runtime_attribute", false, "", CB_CHK_ATTR_NAME_OPT, G(pool.runtime_attribute),
        "Job attribute holding its expected runtime in seconds; empty tries MaxWallTime, RequestRuntime, JobDurationEstimate.",
        "runtime_attribute = \"MaxWallTime\";"),
    ENUM("pool.mode", "exclusive", mode_words, G(pool.mode),
         "exclusive: cloud nodes only start jobs that ask for them (WantCloudNode); transparent: any job.",
         "mode = \"transparent\";"),
    ENUM("pool.drain_method", "ssh", drain_words, G(pool.drain_method),
         "How a node is drained: condor_off -peaceful -startd on the node over SSH, or condor_drain -graceful from here (needs ADMINISTRATOR).",
         "drain_method = \"condor_drain\";"),
    LIST("pool.drain_args", 0, CB_CONFIG_LIST_MAX, G(pool.drain_args),
         "Extra arguments for condor_drain.", "drain_args = [ \"-reason\", \"cloudburst\" ];"),

    /* ---- controller ---------------------------------------------------- */
    GROUP("controller", false, "The control loop, its timeouts and its scaling policy.",
          "controller = { cycle_interval = 60; };"),
    NUM(CB_CFG_UINT, "controller.cycle_interval", false, "60", 5, 3600, "seconds",
        G(controller.cycle_interval),
        "Time from the end of one cycle (observe, decide, act) to the start of the next; a cycle starts sooner, but never within 5 s, when something the core waits for falls due (a drained node to terminate, a timeout).",
        "cycle_interval = 30;"),
    NUM(CB_CFG_UINT, "controller.reconcile_every", false, "5", 1, 1000, "cycles",
        G(controller.reconcile_every),
        "List every cloud by tag and reconcile with the ledger every this many cycles (and at start).",
        "reconcile_every = 10;"),
    BOOL("controller.dry_run", "false", G(controller.dry_run),
         "Shadow mode: observe and decide, log every decision, take no action.", "dry_run = true;"),
    STR("controller.provider_dir", false, "${pkglibdir}/providers", CB_CHK_ABS_PATH,
        G(controller.provider_dir),
        "Directory of the provider drivers; a driver that cannot be loaded is a configuration error.",
        "provider_dir = \"/usr/lib/cloudburst/providers\";"),
    STR("controller.state_dir", false, "${localstatedir}/lib/cloudburst", CB_CHK_ABS_PATH,
        G(controller.state_dir),
        "Directory for harvested node logs and other state; must be writable by the service user.",
        "state_dir = \"/var/lib/cloudburst\";"),
    NUM(CB_CFG_UINT, "controller.call_timeout", false, "120", 1, 3600, "seconds",
        G(controller.call_timeout),
        "Deadline of one logical cloud API call, retries included; a late call fails as a timeout and counts against the cloud.",
        "call_timeout = 60;"),
    NUM(CB_CFG_UINT, "controller.listing_wait", false, "30", 1, 3600, "seconds",
        G(controller.listing_wait),
        "Once the pool has been read, a cycle waits at most this long for the clouds' listings; a cloud still listing then is decided on without a fresh listing (nothing on it is declared gone or adopted) and is listed again in the next cycle, so a hung cloud API holds no cycle longer than this.",
        "listing_wait = 10;"),
    NUM(CB_CFG_UINT, "controller.connect_timeout", false, "10", 1, 300, "seconds",
        G(controller.connect_timeout),
        "Deadline for one connection to a cloud API; must not exceed call_timeout.",
        "connect_timeout = 5;"),
    NUM(CB_CFG_DOUBLE, "controller.ramp_fraction", false, "0.5", 0.01, 1, NULL,
        G(controller.ramp_fraction),
        "Share of the gap between demand and capacity requested per cycle (damped ramp-up).",
        "ramp_fraction = 0.25;"),
    NUM(CB_CFG_UINT, "controller.ramp_floor", false, "1", 0, 10000, "nodes",
        G(controller.ramp_floor),
        "Nodes requested per cycle at least while there is a gap.", "ramp_floor = 2;"),
    NUM(CB_CFG_UINT, "controller.idle_timeout", false, "0", 0, 7 * DAY, "seconds",
        G(controller.idle_timeout),
        "Idle time after which a node is drained; 0 learns it per cloud from the boot-to-join latency, between idle_timeout_min and idle_timeout_max.",
        "idle_timeout = 900;"),
    NUM(CB_CFG_UINT, "controller.idle_timeout_min", false, "120", 0, 7 * DAY, "seconds",
        G(controller.idle_timeout_min),
        "Floor of the learned idle timeout.", "idle_timeout_min = 600;"),
    NUM(CB_CFG_UINT, "controller.idle_timeout_max", false, "1800", 0, 7 * DAY, "seconds",
        G(controller.idle_timeout_max),
        "Ceiling of the learned idle timeout; must not be below idle_timeout_min.",
        "idle_timeout_max = 7200;"),
    NUM(CB_CFG_UINT, "controller.drain_timeout", false, "86400", 60, 30 * DAY, "seconds",
        G(controller.drain_timeout),
        "A draining node still running jobs after this long is terminated anyway; never earlier.",
        "drain_timeout = 172800;"),
    NUM(CB_CFG_UINT, "controller.boot_timeout", false, "600", 60, DAY, "seconds",
        G(controller.boot_timeout),
        "An instance not running this long after the boot request is terminated and counted as a failure of its cloud.",
        "boot_timeout = 900;"),
    NUM(CB_CFG_UINT, "controller.join_timeout", false, "1200", 60, DAY, "seconds",
        G(controller.join_timeout),
        "A running instance whose startd is not in the pool this long after boot is terminated and counted as a failure.",
        "join_timeout = 1800;"),
    NUM(CB_CFG_UINT, "controller.idle_timeout_prior", false, "600", 0, 7 * DAY, "seconds",
        G(controller.idle_timeout_prior),
        "Learned idle timeout of a cloud before any boot-to-join latency has been observed.",
        "idle_timeout_prior = 900;"),
    NUM(CB_CFG_DOUBLE, "controller.idle_learn_factor", false, "1", 0.1, 100, NULL,
        G(controller.idle_learn_factor),
        "Learned idle timeout = this factor times the cloud's median boot-to-join latency (keep an idle node about as long as booting a new one takes).",
        "idle_learn_factor = 1.5;"),
    NUM(CB_CFG_UINT, "controller.billing_margin", false, "300", 0, 3600, "seconds",
        G(controller.billing_margin),
        "Per-hour billing: an idle node is drained only within this many seconds before its paid hour ends.",
        "billing_margin = 600;"),
    NUM(CB_CFG_UINT, "controller.lost_timeout", false, "600", 60, DAY, "seconds",
        G(controller.lost_timeout),
        "A joined node missing from complete pool snapshots this long, while its VM is still listed, is terminated.",
        "lost_timeout = 900;"),
    NUM(CB_CFG_UINT, "controller.listing_grace", false, "300", 0, DAY, "seconds",
        G(controller.listing_grace),
        "A node whose boot was accepted less than this long ago is not declared gone for missing from a listing (eventually consistent cloud APIs).",
        "listing_grace = 600;"),
    NUM(CB_CFG_UINT, "controller.quota_backoff", false, "600", 0, DAY, "seconds",
        G(controller.quota_backoff),
        "A cloud flavor that answered with a quota or capacity error is skipped this long; other flavors and clouds take over at once.",
        "quota_backoff = 1200;"),
    NUM(CB_CFG_UINT, "controller.throttle_backoff", false, "60", 0, DAY, "seconds",
        G(controller.throttle_backoff),
        "A cloud that throttled a call gets no boots this long.",
        "throttle_backoff = 120;"),
    NUM(CB_CFG_UINT, "controller.max_lifetime", false, "0", 0, 365 * DAY, "seconds",
        G(controller.max_lifetime),
        "Drain a node this long after boot whatever its load; 0 means no limit.",
        "max_lifetime = 604800;"),
    NUM(CB_CFG_UINT, "controller.breaker_failures", false, "3", 1, 1000, "failures",
        G(controller.breaker_failures),
        "Consecutive boot or join failures of a cloud, image and flavor that open its circuit breaker (other clouds take over).",
        "breaker_failures = 5;"),
    NUM(CB_CFG_UINT, "controller.breaker_backoff_min", false, "300", 1, DAY, "seconds",
        G(controller.breaker_backoff_min),
        "First backoff of an open breaker; doubles on each further failure.",
        "breaker_backoff_min = 600;"),
    NUM(CB_CFG_UINT, "controller.breaker_backoff_max", false, "1800", 1, 7 * DAY, "seconds",
        G(controller.breaker_backoff_max),
        "Longest backoff of an open breaker; must not be below breaker_backoff_min.",
        "breaker_backoff_max = 3600;"),
    NUM(CB_CFG_UINT, "controller.breaker_reset_after", false, "10800", 1, 30 * DAY, "seconds",
        G(controller.breaker_reset_after),
        "Quiet time without failures after which a breaker's backoff starts again from the minimum.",
        "breaker_reset_after = 7200;"),
    NUM(CB_CFG_DOUBLE, "controller.budget_per_hour", false, "0", 0, BIG, "currency per hour",
        G(controller.budget_per_hour),
        "Global cap on the hourly cost of all running nodes; at the cap no node is booted and the pool winds down gracefully; 0 means no cap.",
        "budget_per_hour = 50.0;"),
    NUM(CB_CFG_DOUBLE, "controller.budget_per_month", false, "0", 0, BIG, "currency per month",
        G(controller.budget_per_month),
        "Global cap on the cost spent in the current calendar month; 0 means no cap.",
        "budget_per_month = 20000.0;"),
    NUM(CB_CFG_UINT, "controller.lease", false, "900", 0, DAY, "seconds",
        G(controller.lease),
        "Heartbeat lease: a node that sees no controller heartbeat for this long stops taking jobs, finishes and powers off; 0 disables it.",
        "lease = 1800;"),

    /* ---- bootstrap ----------------------------------------------------- */
    GROUP("bootstrap", true, "How a booted VM becomes an execute node of the pool.",
          "bootstrap = { method = \"ssh\"; };"),
    ENUM("bootstrap.method", "ssh", method_words, G(bootstrap.method),
         "ssh: log in, upload and run the bootstrap script; cloud-init: pass the same content as user-data.",
         "method = \"cloud-init\";"),
    ENUM("bootstrap.failure_action", "quarantine", failure_words, G(bootstrap.failure_action),
         "On a failed bootstrap: keep the VM for quarantine_time for inspection, or terminate it at once (logs are harvested first).",
         "failure_action = \"terminate\";"),
    NUM(CB_CFG_UINT, "bootstrap.quarantine_time", false, "3600", 0, 7 * DAY, "seconds",
        G(bootstrap.quarantine_time),
        "How long a failed node is kept before it is terminated.", "quarantine_time = 7200;"),
    STR("bootstrap.script_dir", false, "${pkgdatadir}", CB_CHK_ABS_PATH, G(bootstrap.script_dir),
        "Directory of the bootstrap script and node templates.",
        "script_dir = \"/usr/share/cloudburst\";"),
    NUM(CB_CFG_UINT, "bootstrap.max_concurrent", false, "100", 1, 10000, "sessions",
        G(bootstrap.max_concurrent),
        "Bootstrap sessions in progress at once; further nodes wait their turn.",
        "max_concurrent = 200;"),
    GROUP("bootstrap.ssh", false, "SSH access to the nodes (bootstrap and the ssh drain method).",
          "ssh = { user = \"root\"; key_file = \"/etc/cloudburst/node_key\"; };"),
    STR("bootstrap.ssh.user", false, "root", CB_CHK_SAFE_NAME, G(bootstrap.ssh.user),
        "Login user on the nodes.", "user = \"cloud-user\";"),
    SECRET("bootstrap.ssh.key_file", false, "", G(bootstrap.ssh.key_file), G(bootstrap.ssh.key),
           G(bootstrap.ssh.key_len),
           "Private key (ed25519 or RSA) file; mode 0600 or 0400, refused otherwise. Required when method or pool.drain_method is ssh.",
           "key_file = \"/etc/cloudburst/node_key\";"),
    NUM(CB_CFG_UINT, "bootstrap.ssh.port", false, "22", 1, 65535, NULL, G(bootstrap.ssh.port),
        "SSH port of the nodes.", "port = 2222;"),
    ENUM("bootstrap.ssh.host_key_policy", "accept-new", hostkey_words,
         G(bootstrap.ssh.host_key_policy),
         "strict: the host key must be known (from the cloud console); accept-new: record the first key per node, refuse any change; insecure: accept anything, with a warning each time.",
         "host_key_policy = \"strict\";"),
    STR("bootstrap.ssh.known_hosts_file", false, "${localstatedir}/lib/cloudburst/known_hosts",
        CB_CHK_ABS_PATH, G(bootstrap.ssh.known_hosts_file),
        "Where node host keys are recorded.",
        "known_hosts_file = \"/var/lib/cloudburst/known_hosts\";"),
    NUM(CB_CFG_UINT, "bootstrap.ssh.connect_timeout", false, "30", 1, 600, "seconds",
        G(bootstrap.ssh.connect_timeout),
        "Deadline of one SSH connection attempt; attempts repeat with backoff until join_timeout.",
        "connect_timeout = 20;"),
    NUM(CB_CFG_UINT, "bootstrap.ssh.step_timeout", false, "600", 1, DAY, "seconds",
        G(bootstrap.ssh.step_timeout),
        "Deadline of one bootstrap step (upload, script run); a late step fails the bootstrap.",
        "step_timeout = 900;"),
    BOOL("bootstrap.ssh.sudo", "false", G(bootstrap.ssh.sudo),
         "Run the bootstrap with sudo (needed when user is not root).", "sudo = true;"),
    GROUP("bootstrap.cvmfs", false, "CVMFS client configuration written to /etc/cvmfs/default.local.",
          "cvmfs = { repositories = [ \"cms.cern.ch\" ]; http_proxy = \"http://squid:3128\"; };"),
    LIST("bootstrap.cvmfs.repositories", 0, CB_CONFIG_LIST_MAX, G(bootstrap.cvmfs.repositories),
         "Repositories to mount (CVMFS_REPOSITORIES); empty leaves CVMFS unconfigured.",
         "repositories = [ \"cms.cern.ch\", \"oasis.opensciencegrid.org\" ];"),
    STR("bootstrap.cvmfs.http_proxy", false, "", CB_CHK_NONE, G(bootstrap.cvmfs.http_proxy),
        "CVMFS_HTTP_PROXY (squid list, or DIRECT); required when repositories is not empty.",
        "http_proxy = \"http://squid1.example.org:3128;http://squid2.example.org:3128\";"),
    NUM(CB_CFG_UINT, "bootstrap.cvmfs.quota_limit_mb", false, "4000", 500, 10000000, "MiB",
        G(bootstrap.cvmfs.quota_limit_mb),
        "CVMFS_QUOTA_LIMIT: cache size on the node.", "quota_limit_mb = 20000;"),
    STR("bootstrap.cvmfs.cache_base", false, "/var/lib/cvmfs", CB_CHK_ABS_PATH,
        G(bootstrap.cvmfs.cache_base),
        "CVMFS_CACHE_BASE on the node.", "cache_base = \"/scratch/cvmfs\";"),
    STR("bootstrap.cvmfs.cms_local_site", false, "", CB_CHK_NONE, G(bootstrap.cvmfs.cms_local_site),
        "CMS_LOCAL_SITE, so /cvmfs/cms.cern.ch/SITECONF/local is the site's own; empty for non-CMS sites.",
        "cms_local_site = \"T2_XX_Example\";"),
    STR("bootstrap.cvmfs.repo_url", false, "", CB_CHK_NONE, G(bootstrap.cvmfs.repo_url),
        "Where the node fetches the CVMFS release package when the image lacks it; empty uses the script's CERN default.",
        "repo_url = \"https://mirror.example.org/cvmfs\";"),
    GROUP("bootstrap.condor", true, "HTCondor execute-node configuration.",
          "condor = { token_file = \"/etc/cloudburst/condor-token\"; };"),
    SECRET("bootstrap.condor.token_file", true, NULL, G(bootstrap.condor.token_file),
           G(bootstrap.condor.token), G(bootstrap.condor.token_len),
           "IDTOKEN for the nodes (ADVERTISE_STARTD, ADVERTISE_MASTER, READ, DAEMON); mode 0600 or 0400, refused otherwise.",
           "token_file = \"/etc/cloudburst/condor-token\";"),
    BOOL("bootstrap.condor.ccb", "false", G(bootstrap.condor.ccb),
         "Use CCB (the central manager as broker) for nodes without a public inbound address.",
         "ccb = true;"),
    STR("bootstrap.condor.private_network_name", false, "", CB_CHK_NONE,
        G(bootstrap.condor.private_network_name),
        "PRIVATE_NETWORK_NAME of the nodes; empty leaves it unset.",
        "private_network_name = \"cloud.example.org\";"),
    LIST("bootstrap.condor.extra_config", 0, CB_CONFIG_LIST_MAX, G(bootstrap.condor.extra_config),
         "Extra lines appended to the node's HTCondor configuration, one item per line.",
         "extra_config = [ \"STARTD_NOCLAIM_SHUTDOWN = 3600\" ];"),
    STR("bootstrap.condor.repo_url", false, "", CB_CHK_NONE, G(bootstrap.condor.repo_url),
        "Where the node fetches HTCondor when the image lacks it; empty uses the script's upstream default.",
        "repo_url = \"https://research.cs.wisc.edu/htcondor/repo\";"),

    /* ---- clouds -------------------------------------------------------- */
    { .path = "clouds", .type = CB_CFG_LIST, .required = true, .min = 1, .max = CB_MAX_CLOUDS,
      .doc = "The clouds, tried in priority order; each a group. Besides the settings below, a cloud holds a group named after its provider with that driver's settings.",
      .example = "clouds = ( { name = \"aws\"; provider = \"ec2\"; ec2 = { region = \"eu-west-1\"; }; } );" },
    { .path = "clouds.[].name", .type = CB_CFG_NAME, .required = true,
      .check = CB_CHK_SAFE_NAME, .off = C(name),
      .doc = "Unique cloud name: letters, digits, '.', '_' and '-'; it names the cloud in logs, the ledger and the CloudName node attribute.",
      .example = "name = \"aws-eu\";" },
    { .path = "clouds.[].provider", .type = CB_CFG_NAME, .required = true,
      .check = CB_CHK_SAFE_NAME, .off = C(provider),
      .doc = "Driver name (ec2, openstack, deltacloud), loaded from controller.provider_dir; its settings go in a group of that name.",
      .example = "provider = \"openstack\";" },
    BOOL("clouds.[].enabled", "true", C(enabled),
         "A disabled cloud boots nothing; its existing nodes are still listed, drained and terminated.",
         "enabled = false;"),
    NUM(CB_CFG_INT, "clouds.[].priority", false, "0", 0, 1000, NULL, C(priority),
        "Lower is tried first; ties are broken by cost.", "priority = 10;"),
    STR("clouds.[].eligibility", false, "@pool.eligibility", CB_CHK_NONEMPTY, C(eligibility),
        "ClassAd expression over an idle job: true when this cloud may run it.",
        "eligibility = \"WantCloudNode =?= True && RequestMemory <= 16000\";"),
    STR("clouds.[].image", true, NULL, CB_CHK_PRINTABLE, C(image),
        "Image id or name the nodes boot from.", "image = \"ami-0123456789abcdef0\";"),
    NUM(CB_CFG_U32, "clouds.[].max_nodes", false, "10", 0, 100000, "nodes", C(max_nodes),
        "Most nodes alive at once on this cloud; 0 boots none.", "max_nodes = 50;"),
    NUM(CB_CFG_U32, "clouds.[].max_cores", false, "0", 0, 10000000, "cores", C(max_cores),
        "Most cores alive at once on this cloud; 0 means no cap.", "max_cores = 800;"),
    NUM(CB_CFG_U32, "clouds.[].max_in_flight", false, "10", 1, 10000, "nodes", C(max_in_flight),
        "Most nodes requested, booting or bootstrapping at once.", "max_in_flight = 20;"),
    NUM(CB_CFG_U32, "clouds.[].max_boot_per_cycle", false, "10", 1, 1000, "nodes",
        C(max_boot_per_cycle),
        "Most nodes requested from this cloud in one cycle.", "max_boot_per_cycle = 5;"),
    NUM(CB_CFG_DOUBLE, "clouds.[].budget_per_hour", false, "0", 0, BIG, "currency per hour",
        C(budget_per_hour),
        "Cap on the hourly cost of this cloud's nodes; 0 means no cap.", "budget_per_hour = 20.0;"),
    NUM(CB_CFG_DOUBLE, "clouds.[].budget_per_month", false, "0", 0, BIG, "currency per month",
        C(budget_per_month),
        "Cap on this cloud's cost in the current calendar month; 0 means no cap.",
        "budget_per_month = 5000.0;"),
    BOOL("clouds.[].spot", "false", C(spot),
         "Ask for spot or preemptible capacity; refused for a driver without spot support.",
         "spot = true;"),
    ENUM("clouds.[].billing", "per-second", billing_words, C(billing),
         "How the cloud bills a node: by the second, or by started hour (then idle nodes are kept to the end of their hour).",
         "billing = \"per-hour\";"),
    BOOL("clouds.[].terminate_on_shutdown", "true", C(terminate_on_shutdown),
         "Boot instances that a guest poweroff terminates (not stops), so a node whose lease expires ends itself.",
         "terminate_on_shutdown = false;"),
    { .path = "clouds.[].flavors", .type = CB_CFG_LIST, .required = true, .min = 1,
      .max = CB_CONFIG_MAX_FLAVORS,
      .doc = "Instance types this cloud may boot, each a group; names unique within the cloud.",
      .example = "flavors = ( { name = \"m5.2xlarge\"; cpus = 8; memory_mb = 32768; cost_per_hour = 0.46; } );" },
    { .path = "clouds.[].flavors.[].name", .type = CB_CFG_NAME, .required = true,
      .check = CB_CHK_PRINTABLE, .off = F(name),
      .doc = "The provider's instance type or flavor name.", .example = "name = \"m5.2xlarge\";" },
    NUM(CB_CFG_U32, "clouds.[].flavors.[].cpus", true, NULL, 1, 1024, NULL, F(cpus),
        "Cores of one node of this flavor.", "cpus = 8;"),
    NUM(CB_CFG_U64, "clouds.[].flavors.[].memory_mb", true, NULL, 256, 16777216, "MiB",
        F(memory_mb), "Memory of one node.", "memory_mb = 32768;"),
    NUM(CB_CFG_U64, "clouds.[].flavors.[].disk_gb", false, "0", 0, 1000000, "GiB", F(disk_gb),
        "Scratch disk of one node; 0 means jobs' disk requests are not checked against it.",
        "disk_gb = 100;"),
    NUM(CB_CFG_DOUBLE, "clouds.[].flavors.[].cost_per_hour", true, NULL, 0, 1000000,
        "currency per hour", F(cost_per_hour),
        "Price of one node per hour; drives flavor choice and budgets.", "cost_per_hour = 0.46;"),

    /* ---- ledger, log, metrics ------------------------------------------ */
    GROUP("ledger", false, "The durable record of nodes and events (SQLite).",
          "ledger = { path = \"/var/lib/cloudburst/ledger.db\"; };"),
    STR("ledger.path", false, "${localstatedir}/lib/cloudburst/ledger.db", CB_CHK_ABS_PATH,
        G(ledger.path),
        "SQLite database file; its directory must be writable by the service user. A ledger in use by another daemon is refused.",
        "path = \"/var/lib/cloudburst/ledger.db\";"),
    NUM(CB_CFG_UINT, "ledger.busy_timeout_ms", false, "5000", 0, 600000, "milliseconds",
        G(ledger.busy_timeout_ms),
        "How long a write waits for a reader's lock (cloudburstctl) before failing.",
        "busy_timeout_ms = 10000;"),
    GROUP("log", false, "Logging.", "log = { level = \"info\"; target = \"syslog\"; };"),
    ENUM("log.level", "info", level_words, G(log.level),
         "Most verbose level logged; debug adds every outside call's latency.",
         "level = \"debug\";"),
    ENUM("log.target", "stderr", target_words, G(log.target),
         "stderr (journald picks it up under systemd) or syslog.", "target = \"syslog\";"),
    STR("log.facility", false, "daemon", CB_CHK_FACILITY, G(log.facility),
        "Syslog facility: daemon, user or local0 to local7.", "facility = \"local3\";"),
    GROUP("metrics", false, "Prometheus metrics.",
          "metrics = { listen = \"127.0.0.1:9713\"; };"),
    STR("metrics.listen", false, "", CB_CHK_HOSTPORT_OPT, G(metrics.listen),
        "Address of the metrics HTTP endpoint (host:port or [v6]:port); empty turns it off.",
        "listen = \"127.0.0.1:9713\";"),
    STR("metrics.textfile", false, "", CB_CHK_ABS_PATH_OPT, G(metrics.textfile),
        "File rewritten each cycle for node_exporter's textfile collector; empty turns it off.",
        "textfile = \"/var/lib/node_exporter/cloudburst.prom\";"),
};

const size_t cb_config_schema_len = sizeof cb_config_schema / sizeof cb_config_schema[0];

const char *cb_cfg_row_name(const struct cb_cfg_row *row)
{
    const char *dot = strrchr(row->path, '.');
    return dot ? dot + 1 : row->path;
}

bool cb_cfg_row_is_child(const struct cb_cfg_row *row, const char *parent)
{
    size_t n = strlen(parent);
    if (n == 0)
        return strchr(row->path, '.') == NULL;
    return strncmp(row->path, parent, n) == 0 && row->path[n] == '.' &&
           strchr(row->path + n + 1, '.') == NULL;
}

const struct cb_cfg_row *cb_cfg_row_find(const char *path)
{
    for (size_t i = 0; i < cb_config_schema_len; i++)
        if (strcmp(cb_config_schema[i].path, path) == 0)
            return &cb_config_schema[i];
    return NULL;
}

const char *cb_cfg_enum_word(const struct cb_cfg_row *row, int value)
{
    for (const struct cb_cfg_word *w = row->words; w && w->word; w++)
        if (w->value == value)
            return w->word;
    return NULL;
}

int cb_cfg_enum_value(const struct cb_cfg_row *row, const char *word)
{
    for (const struct cb_cfg_word *w = row->words; w && w->word; w++)
        if (strcmp(w->word, word) == 0)
            return w->value;
    return -1;
}

static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    if (*pos >= len)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos += (size_t)n;
}

const char *cb_cfg_row_describe(const struct cb_cfg_row *row, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    switch (row->type) {
    case CB_CFG_GROUP:
        put(buf, len, &pos, "group");
        break;
    case CB_CFG_LIST:
        put(buf, len, &pos, "list of groups, %.0f to %.0f entries", row->min, row->max);
        break;
    case CB_CFG_STRING:
    case CB_CFG_NAME:
        put(buf, len, &pos, "string");
        if (row->type == CB_CFG_NAME)
            put(buf, len, &pos, " of at most %d bytes", CB_NAME_MAX - 1);
        break;
    case CB_CFG_SECRET_PATH:
        put(buf, len, &pos, "string, path of a secret file");
        break;
    case CB_CFG_UINT:
    case CB_CFG_U32:
    case CB_CFG_U64:
    case CB_CFG_INT:
    case CB_CFG_DOUBLE:
        put(buf, len, &pos, "%s", row->type == CB_CFG_DOUBLE ? "number" : "integer");
        if (row->units)
            put(buf, len, &pos, ", %s", row->units);
        put(buf, len, &pos, ", %.15g to %.15g", row->min, row->max);
        break;
    case CB_CFG_BOOL:
        put(buf, len, &pos, "boolean");
        break;
    case CB_CFG_ENUM:
        put(buf, len, &pos, "one of");
        for (const struct cb_cfg_word *w = row->words; w->word; w++)
            put(buf, len, &pos, "%s \"%s\"", w == row->words ? "" : ",", w->word);
        break;
    case CB_CFG_STRLIST:
        put(buf, len, &pos, "list of strings, at most %.0f", row->max);
        break;
    }
    if (row->required)
        put(buf, len, &pos, "; required.");
    else if (row->type == CB_CFG_GROUP)
        put(buf, len, &pos, "; optional.");
    else if (row->type == CB_CFG_STRLIST)
        put(buf, len, &pos, "; default: empty.");
    else if (row->def != NULL && row->def[0] == '@')
        put(buf, len, &pos, "; default: the value of %s.", row->def + 1);
    else if (row->def != NULL && row->def[0] == '\0')
        put(buf, len, &pos, "; default: empty (off).");
    else if (row->type == CB_CFG_STRING || row->type == CB_CFG_ENUM)
        put(buf, len, &pos, "; default: \"%s\".", row->def);
    else
        put(buf, len, &pos, "; default: %s.", row->def);
    return buf;
}
