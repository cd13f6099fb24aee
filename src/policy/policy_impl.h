/* SPDX-License-Identifier: MIT */
/*
 * policy_impl.h — what the files of the policy layer share and nobody
 * else needs.
 */
#ifndef IPCN_POLICY_IMPL_H
#define IPCN_POLICY_IMPL_H

#include "policy/policy.h"

/* Does who match s?  1 yes, 0 no, -1 unknown (a condition needs what the
 * node could not establish of who).  in_group: s is a group's member
 * selector (a group condition in it matches nothing). */
int ipcn__selector_match(const ipcn__selector *s, const ipcn__groupset *gs,
                         const ipcn__principal *who, bool in_group);

#endif
