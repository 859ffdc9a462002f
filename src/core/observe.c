/* observe: growable arrays for the observation containers (see observe.h). */
#include "core/observe.h"

#include <stdlib.h>
#include <string.h>

/* Grow *items to hold one more element of size elem; returns the new slot,
 * zeroed, or NULL when memory runs out (the container is left unchanged). */
static void *grow_one(void **items, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        if (ncap > SIZE_MAX / elem)
            return NULL;
        void *p = realloc(*items, ncap * elem);
        if (p == NULL)
            return NULL;
        *items = p;
        *cap = ncap;
    }
    void *slot = (char *)*items + (*n)++ * elem;
    memset(slot, 0, elem);
    return slot;
}

struct cb_instance *cb_instance_list_add(struct cb_instance_list *list)
{
    struct cb_instance *in = grow_one((void **)&list->items, &list->n, &list->cap, sizeof *in);
    if (in != NULL) {
        in->state = CB_INSTANCE_UNKNOWN;
        in->launch_time = -1;
    }
    return in;
}

void cb_instance_list_free(struct cb_instance_list *list)
{
    free(list->items);
    memset(list, 0, sizeof *list);
}

struct cb_job_shape *cb_demand_add(struct cb_demand *d)
{
    struct cb_job_shape *s = grow_one((void **)&d->shapes, &d->n, &d->cap, sizeof *s);
    if (s != NULL) {
        s->runtime_s = -1;
        s->oldest_qdate = -1;
    }
    return s;
}

void cb_demand_free(struct cb_demand *d)
{
    free(d->shapes);
    memset(d, 0, sizeof *d);
}

struct cb_pool_node *cb_supply_add(struct cb_supply *s)
{
    struct cb_pool_node *p = grow_one((void **)&s->nodes, &s->n, &s->cap, sizeof *p);
    if (p != NULL) {
        p->last_heard_from = -1;
        p->daemon_start_time = -1;
        p->idle_since = -1;
        p->expected_empty_at = -1;
    }
    return p;
}

void cb_supply_free(struct cb_supply *s)
{
    free(s->nodes);
    memset(s, 0, sizeof *s);
}

static const char *const instance_state_names[CB_INSTANCE__COUNT] = {
    [CB_INSTANCE_PENDING] = "pending",
    [CB_INSTANCE_RUNNING] = "running",
    [CB_INSTANCE_STOPPING] = "stopping",
    [CB_INSTANCE_TERMINATED] = "terminated",
    [CB_INSTANCE_ERROR] = "error",
    [CB_INSTANCE_UNKNOWN] = "unknown",
};

const char *cb_instance_state_name(enum cb_instance_state s)
{
    if ((unsigned)s >= CB_INSTANCE__COUNT)
        return "unknown";
    return instance_state_names[s];
}

int cb_instance_state_parse(const char *word, enum cb_instance_state *out)
{
    for (unsigned i = 0; i < CB_INSTANCE__COUNT; i++) {
        if (strcmp(word, instance_state_names[i]) == 0) {
            *out = (enum cb_instance_state)i;
            return 0;
        }
    }
    return -1;
}
