/* SPDX-License-Identifier: MIT */
/*
 * loan_sensor.c — images published the way large samples go: encoded
 * (media/sensor_image.c) straight into a shared-memory slot of the
 * resource's pool, the pixels on an aligned boundary, so that subscribers
 * read them in place (docs/protocol.md, "Sensor messages").  Built on the
 * public loan calls (loan.c).
 */
#include <string.h>

#include "ipcnet_sensor.h"
#include "util/util.h"

int ipcn_loan_image(ipcn_node *n, const char *path, const ipcn_image *img,
                    ipcn_loan **out, void **pixels)
{
    if (!n || !path || !img || !out || !pixels)
        return IPCN_BAD_REQUEST;
    ipcn_image shape = *img;
    shape.pixels.data = NULL;
    size_t need = 0;
    void *at = NULL;
    int st = ipcn_image_encode(NULL, 0, &shape, &need, &at);
    if (st != IPCN_INSUFFICIENT_STORAGE)
        return st == IPCN_OK ? IPCN_INTERNAL_ERROR : st;
    ipcn_loan *loan;
    if ((st = ipcn_loan_new(n, path, need, &loan)) != IPCN_OK)
        return st;
    size_t len = 0;
    /* A slot starts on a page: aligned from the slot's start is aligned. */
    if (ipcn_image_encode(ipcn_loan_data(loan), need, &shape, &len, &at) != IPCN_OK ||
        len != need) {
        ipcn_loan_discard(n, loan);
        return IPCN_INTERNAL_ERROR;
    }
    *pixels = at;
    *out = loan;
    return IPCN_OK;
}

int ipcn_publish_image(ipcn_node *n, const char *path, const ipcn_image *img)
{
    if (!n || !path || !img)
        return IPCN_BAD_REQUEST;
    size_t need = 0;
    int st = ipcn_image_encode(NULL, 0, img, &need, NULL);
    if (st != IPCN_INSUFFICIENT_STORAGE)
        return st == IPCN_OK ? IPCN_INTERNAL_ERROR : st;
    if (need >= IPCN_SHM_THRESHOLD) {
        ipcn_loan *loan;
        st = ipcn_loan_new(n, path, need, &loan);
        if (st == IPCN_OK) {
            size_t len = 0;
            st = ipcn_image_encode(ipcn_loan_data(loan), need, img, &len, NULL);
            if (st != IPCN_OK) {
                ipcn_loan_discard(n, loan);
                return st == IPCN_BAD_REQUEST ? st : IPCN_INTERNAL_ERROR;
            }
            return ipcn_loan_publish(n, loan, len);
        }
        /* No memfds here (307, 301): over the socket, as ipcn_publish()
         * would send it; anything else is the answer. */
        if (st != IPCN_INSUFFICIENT_MEMORY && st != IPCN_NOT_IMPLEMENTED)
            return st;
    }
    void *buf = ipcn__malloc(need);
    if (!buf)
        return IPCN_INSUFFICIENT_MEMORY;
    size_t len = 0;
    st = ipcn_image_encode(buf, need, img, &len, NULL);
    if (st == IPCN_OK)
        st = ipcn_publish(n, path, buf, len);
    ipcn__free(buf);
    return st;
}
