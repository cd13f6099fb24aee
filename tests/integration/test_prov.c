/* SPDX-License-Identifier: MIT */
/*
 * test_prov.c — provenance across real processes (ipcnet_prov.h;
 * docs/protocol.md 20), with the library as shipped.  Three helper
 * processes (helpers/pv_stage.c) make a pipeline: camera (cam/rgb,
 * provenance on) -> detector (det/boxes derived from each frame, det/pass
 * a declared pass-through, det/tampered a pass-through that changes its
 * input) -> planner (plan/cmd derived from each det/boxes).  This process
 * subscribes to all of it and checks:
 *  - a planner's command verifies, back through the detector to the
 *    camera, and traces to the exact camera frame: the boxes it names are
 *    the sample seen on det/boxes, and those name the frame seen on
 *    cam/rgb (node, seq, payload digest);
 *  - its PROV-JSON names the three agents and the derivations;
 *  - an honest pass-through verifies; the tampered one is caught (202,
 *    the detector named), so is a payload changed on the way;
 *  - every single flipped byte of the command's record fails verification.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "testutil.h"

#define KEEP 256

typedef struct seen {
    ipcn_msg *frames[KEEP], *boxes[KEEP], *cmds[KEEP], *cmd, *pass, *tampered;
    unsigned nframes, nboxes, ncmds;
} seen;

static void keep(ipcn_msg **slot, const ipcn_msg *m)
{
    if (!*slot)
        *slot = ipcn_msg_ref(m);
}

static void on_msg(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    seen *s = user;
    if (m->status != IPCN_OK) /* a notice, not a sample */
        return;
    if (!strcmp(m->path, "cam/rgb")) {
        if (s->nframes < KEEP)
            s->frames[s->nframes++] = ipcn_msg_ref(m);
    } else if (!strcmp(m->path, "det/boxes")) {
        if (s->nboxes < KEEP)
            s->boxes[s->nboxes++] = ipcn_msg_ref(m);
    } else if (!strcmp(m->path, "det/pass")) {
        keep(&s->pass, m);
    } else if (!strcmp(m->path, "det/tampered")) {
        keep(&s->tampered, m);
    } else if (!strcmp(m->path, "plan/cmd") && s->ncmds < KEEP) {
        s->cmds[s->ncmds++] = ipcn_msg_ref(m);
    }
}

static void refs_equal(const ipcn_prov_ref *a, const ipcn_prov_ref *b)
{
    assert_int_equal(a->node_id, b->node_id);
    assert_int_equal(a->index, b->index);
    assert_int_equal(a->seq, b->seq);
    assert_memory_equal(a->path_hash, b->path_hash, 32);
    assert_memory_equal(a->digest, b->digest, 32);
}

static void test_pipeline(void **state)
{
    (void)state;
    tu_net_dir();
    seen s;
    memset(&s, 0, sizeof s);
    ipcn_node *n;
    assert_int_equal(ipcn_node_open(&n, "verifier", NULL), IPCN_OK);
    const char *pats[] = {"cam/rgb", "det/*", "plan/cmd"};
    ipcn_sub subs[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(ipcn_subscribe(n, pats[i], 256, on_msg, &s, &subs[i]),
                         IPCN_OK);
    const char *roles[] = {"camera", "detector", "planner"};
    pid_t pids[3];
    for (int i = 0; i < 3; i++)
        pids[i] = tu_spawn("pv_stage", (const char *[]){roles[i], "60", NULL});
    /* A command whose boxes and frame this process saw too (the first
     * ones may have passed before its subscriptions reached every
     * stage). */
    uint64_t end = tu_now_ms() + 30000;
    const ipcn_msg *bm = NULL, *fm = NULL;
    ipcn_prov_record cmd, box;
    unsigned tried = 0;
    while ((!s.cmd || !s.pass || !s.tampered) && tu_now_ms() < end) {
        ipcn_node_dispatch(n, 20);
        for (; !s.cmd && tried < s.ncmds; tried++) {
            const uint8_t *b;
            size_t bl;
            ipcn_msg *c = s.cmds[tried];
            assert_int_equal(ipcn_msg_provenance(c, &b, &bl), IPCN_OK);
            assert_int_equal(ipcn_prov_decode(b, bl, &cmd), IPCN_OK);
            bm = fm = NULL;
            for (unsigned i = 0; i < s.nboxes && !bm; i++) {
                ipcn_prov_ref r;
                assert_int_equal(ipcn_msg_prov_ref(s.boxes[i], &r), IPCN_OK);
                if (cmd.nparents == 1 && r.seq == cmd.parents[0].seq &&
                    r.node_id == cmd.parents[0].node_id)
                    bm = s.boxes[i];
            }
            if (!bm)
                continue;
            assert_int_equal(ipcn_msg_provenance(bm, &b, &bl), IPCN_OK);
            assert_int_equal(ipcn_prov_decode(b, bl, &box), IPCN_OK);
            for (unsigned i = 0; i < s.nframes && !fm; i++)
                if (box.nparents == 1 && s.frames[i]->seq == box.parents[0].seq)
                    fm = s.frames[i];
            if (fm)
                s.cmd = c;
        }
    }
    assert_non_null(s.cmd);
    assert_non_null(s.pass);
    assert_non_null(s.tampered);

    /* The command verifies back to the camera: three records, two stages. */
    ipcn_prov_report rep;
    int st = ipcn_prov_verify(n, s.cmd, 5000, &rep);
    if (st != IPCN_OK)
        fprintf(stderr, "verify: %d %s\n", st, rep.reason);
    assert_int_equal(st, IPCN_OK);
    assert_int_equal(rep.records, 3);
    assert_int_equal(rep.depth, 2);
    assert_int_equal(rep.bad_status, IPCN_OK);

    /* Traced by hand: cmd -> the boxes seen -> the frame seen. */
    const uint8_t *bytes;
    size_t len;
    assert_string_equal(cmd.node, "planner");
    assert_int_equal(cmd.node_id, s.cmd->src_id);
    assert_int_equal(cmd.seq, s.cmd->seq);
    assert_int_equal(cmd.nparents, 1);
    ipcn_prov_ref bref, fref;
    assert_int_equal(ipcn_msg_prov_ref(bm, &bref), IPCN_OK);
    refs_equal(&bref, &cmd.parents[0]);
    assert_string_equal(box.node, "detector");
    assert_int_equal(box.nparents, 1);
    assert_int_equal(ipcn_msg_prov_ref(fm, &fref), IPCN_OK);
    refs_equal(&fref, &box.parents[0]); /* node, seq, digest of the frame */
    assert_int_equal(fref.node_id, fm->src_id);
    assert_string_equal(fm->src_name, "camera");
    char want[80];
    snprintf(want, sizeof want, "cmd(boxes(frame-%llu.",
             (unsigned long long)fm->seq);
    assert_memory_equal(s.cmd->data, want, strlen(want));
    assert_int_equal(ipcn_prov_verify(n, fm, 5000, &rep), IPCN_OK);
    assert_int_equal(rep.records, 1);

    /* PROV-JSON of the command's lineage. */
    char *json = NULL;
    assert_int_equal(ipcn_prov_export_json(n, s.cmd, 5000, &json), IPCN_OK);
    char ent[64];
    snprintf(ent, sizeof ent, "\"ipcn:sample/%016llx/%llu\"",
             (unsigned long long)fref.node_id, (unsigned long long)fref.index);
    assert_non_null(strstr(json, ent));
    assert_non_null(strstr(json, "\"wasDerivedFrom\""));
    assert_non_null(strstr(json, "\"wasGeneratedBy\""));
    assert_non_null(strstr(json, "\"wasAttributedTo\""));
    assert_non_null(strstr(json, "\"ipcn:name\": \"camera\""));
    assert_non_null(strstr(json, "\"ipcn:name\": \"detector\""));
    assert_non_null(strstr(json, "\"ipcn:name\": \"planner\""));
    free(json);

    /* A declared pass-through: honest verifies, tampered is caught. */
    assert_int_equal(ipcn_prov_verify(n, s.pass, 5000, &rep), IPCN_OK);
    assert_int_equal(rep.records, 2);
    assert_int_equal(ipcn_prov_verify(n, s.tampered, 5000, &rep),
                     IPCN_FORBIDDEN);
    assert_non_null(strstr(rep.reason, "pass-through"));
    assert_int_equal(rep.bad_node, s.tampered->src_id);
    assert_int_equal(ipcn_prov_export_json(n, s.tampered, 5000, &json),
                     IPCN_FORBIDDEN);

    /* A payload changed on the way (its record intact): caught. */
    assert_int_equal(ipcn_msg_provenance(s.cmd, &bytes, &len), IPCN_OK);
    uint8_t *data = malloc(s.cmd->len);
    memcpy(data, s.cmd->data, s.cmd->len);
    data[s.cmd->len - 1] ^= 1;
    assert_int_equal(ipcn_prov_verify_record(n, bytes, len, data, s.cmd->len,
                                             5000, &rep),
                     IPCN_FORBIDDEN);
    free(data);

    /* Every flipped byte of the record fails. */
    uint8_t *rec = malloc(len);
    for (size_t i = 0; i < len; i++) {
        memcpy(rec, bytes, len);
        rec[i] ^= (uint8_t)(1u << (i % 8));
        st = ipcn_prov_verify_record(n, rec, len, s.cmd->data, s.cmd->len,
                                     5000, &rep);
        if (st == IPCN_OK)
            fprintf(stderr, "byte %zu flipped: verified\n", i);
        assert_int_not_equal(st, IPCN_OK);
    }
    free(rec);

    for (unsigned i = 0; i < s.nframes; i++)
        ipcn_msg_free(s.frames[i]);
    for (unsigned i = 0; i < s.nboxes; i++)
        ipcn_msg_free(s.boxes[i]);
    for (unsigned i = 0; i < s.ncmds; i++)
        ipcn_msg_free(s.cmds[i]);
    ipcn_msg_free(s.pass);
    ipcn_msg_free(s.tampered);
    ipcn_node_close(n);
    for (int i = 0; i < 3; i++) {
        kill(pids[i], SIGTERM);
        assert_int_equal(tu_wait(pids[i], 10000), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
