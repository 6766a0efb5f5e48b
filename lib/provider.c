/*
 * provider.c — ownership helpers of the provider contract: freeing what providers return,
 * and destroying a provider through its vtable.
 */
#include <stdlib.h>

#include "duro-provider.h"

void duro_events_free(duro_event *events, size_t n)
{
    size_t i;
    if (!events)
        return;
    for (i = 0; i < n; i++)
        free(events[i].payload);
    free(events);
}

void duro_orch_item_free(duro_orch_item *item)
{
    size_t i;
    if (!item)
        return;
    free(item->instance);
    free(item->orch_name);
    free(item->orch_version);
    free(item->custom_status);
    for (i = 0; i < item->n_msgs; i++)
        free(item->msgs[i].payload);
    free(item->msgs);
    duro_events_free(item->history, item->n_history);
    free(item->history_error);
    free(item);
}

void duro_work_item_free(duro_work_item *item)
{
    if (!item)
        return;
    free(item->instance);
    free(item->payload);
    free(item);
}

void duro_instance_info_clear(duro_instance_info *info)
{
    if (!info)
        return;
    free(info->instance);
    free(info->orch_name);
    free(info->orch_version);
    free(info->parent_instance);
    free(info->output);
    free(info->custom_status);
    info->instance = info->orch_name = info->orch_version = NULL;
    info->parent_instance = info->output = info->custom_status = NULL;
}

void duro_execution_info_clear(duro_execution_info *info)
{
    if (!info)
        return;
    free(info->output);
    info->output = NULL;
}

void duro_strv_free(char **v, size_t n)
{
    size_t i;
    if (!v)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void duro_provider_destroy(duro_provider *p)
{
    if (p && p->ops && p->ops->destroy)
        p->ops->destroy(p);
}
