/* SPDX-License-Identifier: MIT */
/* list.h — intrusive circular doubly linked lists (as wl_list, c-list). */
#ifndef IPCN_LIST_H
#define IPCN_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ipcn__list {
    struct ipcn__list *prev, *next;
} ipcn__list;

static inline void ipcn__list_init(ipcn__list *l) { l->prev = l->next = l; }
static inline bool ipcn__list_empty(const ipcn__list *l) { return l->next == l; }

static inline void ipcn__list_insert_tail(ipcn__list *head, ipcn__list *e)
{
    e->prev = head->prev;
    e->next = head;
    head->prev->next = e;
    head->prev = e;
}

static inline void ipcn__list_remove(ipcn__list *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = e;
}

#define ipcn__list_entry(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Iterate; safe against removal of the current entry. */
#define ipcn__list_for_each(var, tmp, head, type, member)                \
    for (ipcn__list *tmp##_it = (head)->next, *tmp = tmp##_it->next;    \
         tmp##_it != (head) &&                                          \
         ((var) = ipcn__list_entry(tmp##_it, type, member), 1);         \
         tmp##_it = tmp, tmp = tmp##_it->next)

static inline ipcn__list *ipcn__list_pop(ipcn__list *head)
{
    if (ipcn__list_empty(head))
        return NULL;
    ipcn__list *e = head->next;
    ipcn__list_remove(e);
    return e;
}

#endif
