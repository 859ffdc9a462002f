/* observe: what the shell tells the core about the world, as plain data.
 *
 * Producers: the pool adapter (src/pool*) fills cb_demand and cb_supply from
 * condor_q / condor_status; each provider driver fills a cb_instance_list from
 * its cloud's listing; the simulator fills all three from its models. The core
 * reads them and never performs I/O itself.
 *
 * Ownership: each container owns its arrays; free them with the matching
 * *_free() (which also clears the struct, so a double free is harmless).
 * All strings are fixed-size, NUL-terminated, and already sanitised by the
 * producer (outside text never reaches the core raw).
 * Times are Unix seconds (int64_t); -1 means unknown.
 */
#ifndef CB_CORE_OBSERVE_H
#define CB_CORE_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Clouds are numbered by their position in the configuration; a job's
 * eligibility is a bit mask over them, so at most 64 clouds (checked at load). */
#define CB_MAX_CLOUDS 64
typedef uint64_t cb_cloud_mask;

#define CB_NAME_MAX 64      /* cloud, flavor, node ids, pool names */
#define CB_ID_MAX 128       /* provider instance ids, image ids */
#define CB_HOST_MAX 256     /* host/slot names */
#define CB_ADDR_MAX 64      /* textual IPv4/IPv6 address */

/* ---- demand: idle jobs, aggregated by shape ---------------------------- */

/* All idle jobs with the same resource request and the same set of clouds that
 * may serve them (like an HTCondor autocluster, restricted to what the core
 * needs). Downstream cost grows with the number of shapes, not of jobs. */
struct cb_job_shape {
    uint32_t cpus;          /* RequestCpus */
    uint64_t memory_mb;     /* RequestMemory (MiB) */
    uint64_t disk_kb;       /* RequestDisk (KiB, as HTCondor counts it) */
    int64_t runtime_s;      /* expected runtime hint, -1 unknown */
    cb_cloud_mask clouds;   /* bit i set: cloud i's eligibility expression is True */
    uint32_t count;         /* idle jobs of this shape */
    int64_t oldest_qdate;   /* QDate of the oldest such job */
};

struct cb_demand {
    struct cb_job_shape *shapes;
    size_t n, cap;
    uint64_t idle_jobs;     /* sum of counts */
    /* The queue could not be read completely (a schedd failed, output was cut):
     * the core may scale up on what it saw but must not scale down on it. */
    bool partial;
    char partial_reason[256];
};

/* ---- supply: cloud nodes as the pool sees them ------------------------- */

/* One cloud node (one startd host), aggregated over its slots. */
struct cb_pool_node {
    char machine[CB_HOST_MAX];      /* Machine */
    char node_id[CB_NAME_MAX];      /* CloudburstNodeId, "" if absent */
    char instance_id[CB_ID_MAX];    /* CloudInstanceId, "" if absent */
    char cloud[CB_NAME_MAX];        /* CloudName, "" if absent */
    uint32_t total_cpus;            /* sum over partitionable/static slots */
    uint32_t idle_cpus;             /* unclaimed cpus */
    uint64_t total_memory_mb;
    uint64_t idle_memory_mb;
    uint64_t total_disk_kb;
    uint64_t idle_disk_kb;
    uint32_t slots;                 /* slot ads seen (p-slots, static, dynamic) */
    uint32_t claimed_slots;         /* slots in Claimed state (jobs running) */
    bool busy;                      /* any slot claimed */
    bool draining;                  /* startd draining / peaceful shutdown / START false by drain */
    int64_t last_heard_from;        /* newest LastHeardFrom of its ads */
    int64_t daemon_start_time;      /* DaemonStartTime of the startd */
    int64_t idle_since;             /* when it last became fully unclaimed, -1 if busy/unknown */
    int64_t expected_empty_at;      /* when its running jobs should end, -1 unknown */
};

struct cb_supply {
    struct cb_pool_node *nodes;
    size_t n, cap;
    bool partial;
    char partial_reason[256];
};

/* ---- cloud listings --------------------------------------------------- */

enum cb_instance_state {
    CB_INSTANCE_PENDING = 0,
    CB_INSTANCE_RUNNING,
    CB_INSTANCE_STOPPING,
    CB_INSTANCE_TERMINATED,
    CB_INSTANCE_ERROR,
    CB_INSTANCE_UNKNOWN,
    CB_INSTANCE__COUNT
};

/* One instance carrying this pool's tags, as a driver's list/boot reports it. */
struct cb_instance {
    char id[CB_ID_MAX];             /* provider instance id */
    char node_id[CB_NAME_MAX];      /* "<batch_id>-<index>", see provider.h */
    char batch_id[CB_NAME_MAX];     /* the boot's idempotency token / batch tag */
    char flavor[CB_NAME_MAX];
    char image[CB_ID_MAX];
    enum cb_instance_state state;
    char private_ip[CB_ADDR_MAX];
    char public_ip[CB_ADDR_MAX];
    int64_t launch_time;
    bool preempted;                 /* spot interruption announced */
    char state_reason[160];         /* provider's reason text, sanitised */
};

struct cb_instance_list {
    struct cb_instance *items;
    size_t n, cap;
};

/* Append a zeroed instance and return it (NULL on ENOMEM). */
struct cb_instance *cb_instance_list_add(struct cb_instance_list *list);
void cb_instance_list_free(struct cb_instance_list *list);

struct cb_job_shape *cb_demand_add(struct cb_demand *d);
void cb_demand_free(struct cb_demand *d);
struct cb_pool_node *cb_supply_add(struct cb_supply *s);
void cb_supply_free(struct cb_supply *s);

const char *cb_instance_state_name(enum cb_instance_state s);
int cb_instance_state_parse(const char *word, enum cb_instance_state *out);

#endif
