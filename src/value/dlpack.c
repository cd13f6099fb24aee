/* SPDX-License-Identifier: MIT */
/* dlpack.c — ipcn_tensor <-> DLTensor (DLPack), both views, no copies. */
#include <string.h>

#if defined(__has_include) && !__has_include(<dlpack/dlpack.h>)
#error "dlpack/dlpack.h not found: install libdlpack-dev (scripts/deps.sh)"
#endif
#include "ipcnet_dlpack.h"
#include "util/util.h"

int ipcn_tensor_to_dlpack(const ipcn_tensor *t, DLTensor *out)
{
    if (!t || !out || t->ndim > IPCN_TENSOR_MAX_DIMS)
        return IPCN_BAD_REQUEST;
    size_t es = ipcn_dtype_size(t->dtype);
    if (!es || (es > 1 && t->order != IPCN_ORDER_NATIVE))
        return IPCN_BAD_REQUEST;
    uint8_t code;
    switch (t->dtype) {
    case IPCN_DTYPE_BOOL:
        code = IPCN_DLPACK_BOOL_CODE;
        break;
    case IPCN_DTYPE_INT8:
    case IPCN_DTYPE_INT16:
    case IPCN_DTYPE_INT32:
    case IPCN_DTYPE_INT64:
        code = kDLInt;
        break;
    case IPCN_DTYPE_UINT8:
    case IPCN_DTYPE_UINT16:
    case IPCN_DTYPE_UINT32:
    case IPCN_DTYPE_UINT64:
        code = kDLUInt;
        break;
    case IPCN_DTYPE_BFLOAT16:
        code = kDLBfloat;
        break;
    default:
        code = kDLFloat;
        break;
    }
    DLTensor d;
    memset(&d, 0, sizeof d);
    d.data = (void *)(uintptr_t)t->data;
    d.device.device_type = kDLCPU;
    d.device.device_id = 0;
    d.ndim = (int)t->ndim;
    d.dtype.code = code;
    d.dtype.bits = (uint8_t)(es * 8);
    d.dtype.lanes = 1;
    d.shape = (int64_t *)(uintptr_t)t->shape;
    d.strides = (int64_t *)(uintptr_t)t->strides;
    d.byte_offset = 0;
    *out = d;
    return IPCN_OK;
}

int ipcn_tensor_from_dlpack(const DLTensor *dl, ipcn_tensor *out)
{
    if (!dl || !out || dl->ndim < 0 || (dl->ndim > 0 && !dl->shape))
        return IPCN_BAD_REQUEST;
    if ((dl->device.device_type != kDLCPU &&
         dl->device.device_type != kDLCUDAHost) ||
        dl->dtype.lanes != 1 || dl->ndim > IPCN_TENSOR_MAX_DIMS)
        return IPCN_NOT_IMPLEMENTED;
    ipcn_dtype dt = IPCN_DTYPE_INVALID;
    unsigned bits = dl->dtype.bits;
    switch (dl->dtype.code) {
    case kDLInt:
        dt = bits == 8 ? IPCN_DTYPE_INT8 : bits == 16 ? IPCN_DTYPE_INT16
           : bits == 32 ? IPCN_DTYPE_INT32 : bits == 64 ? IPCN_DTYPE_INT64
           : IPCN_DTYPE_INVALID;
        break;
    case kDLUInt:
        dt = bits == 8 ? IPCN_DTYPE_UINT8 : bits == 16 ? IPCN_DTYPE_UINT16
           : bits == 32 ? IPCN_DTYPE_UINT32 : bits == 64 ? IPCN_DTYPE_UINT64
           : IPCN_DTYPE_INVALID;
        break;
    case kDLFloat:
        dt = bits == 16 ? IPCN_DTYPE_FLOAT16 : bits == 32 ? IPCN_DTYPE_FLOAT32
           : bits == 64 ? IPCN_DTYPE_FLOAT64 : IPCN_DTYPE_INVALID;
        break;
    case kDLBfloat:
        dt = bits == 16 ? IPCN_DTYPE_BFLOAT16 : IPCN_DTYPE_INVALID;
        break;
    case IPCN_DLPACK_BOOL_CODE:
        dt = bits == 8 ? IPCN_DTYPE_BOOL : IPCN_DTYPE_INVALID;
        break;
    default:
        break;
    }
    if (dt == IPCN_DTYPE_INVALID)
        return IPCN_NOT_IMPLEMENTED;
    const uint8_t *data = dl->data ? (const uint8_t *)dl->data + dl->byte_offset
                                   : NULL;
    ipcn_tensor t;
    int st = ipcn_tensor_init(&t, dt, (uint32_t)dl->ndim, dl->shape, data);
    if (st != IPCN_OK)
        return st;
    if (dl->strides)
        for (int i = 0; i < dl->ndim; i++)
            t.strides[i] = dl->strides[i];
    *out = t;
    return IPCN_OK;
}
