/* SPDX-License-Identifier: MIT */
/*
 * test_counters.c — the accounting of shared-memory pools: a pool's slots
 * are sized to the sample.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipcnet.h"
#include "ipcnet_value.h"
#include "shm_pattern.h"
#include "v_util.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

/* An 8 MiB tensor and its header take a slot of 8 MiB and a page, not the
 * next power of two (16 MiB). */
static void test_slot_fits_sample(void **state)
{
    (void)state;
    ipcn_node *n = v_open("t", NULL);
    assert_true(IPCN_IS_OK(ipcn_announce(n, "cam/tensor", IPCN_STREAM,
                                         "cbor", NULL, 0)));
    long ps = sysconf(_SC_PAGESIZE);
    int64_t shape[2] = {2048, 1024}; /* float32: 8 MiB of elements */
    ipcn_tensor t;
    /* ipcn_loan_tensor() reads only the dtype and shape. */
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 2, shape, &t),
                     IPCN_OK);
    ipcn_loan *loan;
    void *elems;
    assert_int_equal(ipcn_loan_tensor(n, "cam/tensor", &t, &loan, &elems),
                     IPCN_OK);
    memset(elems, 0, 8 * MIB);
    assert_int_equal(ipcn_publish_loan(n, loan, 0), IPCN_OK);
    ipcn_pool_stats s;
    assert_int_equal(ipcn_pool_get_stats(n, "cam/tensor", &s), IPCN_OK);
    assert_true(s.slot_size > 8 * MIB);
    assert_true(s.slot_size <= 8 * MIB + (size_t)ps);
    assert_int_equal(s.slot_size % (size_t)ps, 0);
    /* A plain loan of a size just past a power of two too. */
    assert_true(IPCN_IS_OK(ipcn_announce(n, "cam/raw", IPCN_STREAM, "bytes",
                                         NULL, 0)));
    assert_int_equal(ipcn_loan_new(n, "cam/raw", 2 * MIB + 100, &loan), IPCN_OK);
    assert_true(ipcn_loan_size(loan) >= 2 * MIB + 100);
    assert_true(ipcn_loan_size(loan) <= 2 * MIB + (size_t)ps);
    ipcn_loan_discard(n, loan);
}

int main(void)
{
    tu_net_dir();
    const struct CMUnitTest tests[] = {
        V_TEST(test_slot_fits_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
