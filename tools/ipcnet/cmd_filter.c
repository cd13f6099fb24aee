/* SPDX-License-Identifier: MIT */
/*
 * cmd_filter.c — json2cbor and cbor2json: stdin to stdout, no network.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cbor.h"
#include "cli.h"
#include "util.h"

static int read_stdin(sbuf *in)
{
    if (read_file("-", in) < 0)
        return cli_fail(IPCN_INTERNAL_ERROR, "cannot read stdin: %s", strerror(errno));
    return 0;
}

int cmd_json2cbor(cli *c)
{
    (void)c;
    sbuf in = {0}, cb = {0};
    int rc = read_stdin(&in);
    if (rc)
        return rc;
    jval *v;
    char err[160];
    if (json_parse(in.p, in.len, &v, err, sizeof err) < 0) {
        rc = cli_fail(IPCN_BAD_REQUEST, "stdin is not valid JSON: %s", err);
    } else {
        if (cbor_from_json(&cb, v, err, sizeof err) < 0)
            rc = cli_fail(IPCN_BAD_REQUEST, "stdin: %s", err);
        else
            value_raw(cb.p, cb.len);
        json_free(v);
    }
    sb_free(&in);
    sb_free(&cb);
    return rc;
}

int cmd_cbor2json(cli *c)
{
    (void)c;
    sbuf in = {0}, outb = {0};
    int rc = read_stdin(&in);
    if (rc)
        return rc;
    jval *v;
    if (ipcn_cbor_check(in.p, in.len, 0) != IPCN_OK) {
        rc = cli_fail(IPCN_BAD_REQUEST, "stdin is not one well-formed CBOR item "
                      "(%zu bytes)", in.len);
    } else if (cbor_to_json(in.p, in.len, &v) < 0) {
        rc = cli_fail(IPCN_INSUFFICIENT_MEMORY, "cannot decode stdin");
    } else {
        json_write(&outb, v, -1);
        sb_putc(&outb, '\n');
        value_raw(outb.p, outb.len);
        json_free(v);
    }
    sb_free(&in);
    sb_free(&outb);
    return rc;
}
