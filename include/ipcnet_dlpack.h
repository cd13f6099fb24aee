/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_dlpack.h — IPCNet tensors as DLPack tensors and back, without
 * copying.  Kept apart from ipcnet_value.h so that only programs that use
 * DLPack need its header (Debian: libdlpack-dev, <dlpack/dlpack.h>).
 *
 * Since: 0.1
 */
#ifndef IPCNET_DLPACK_H
#define IPCNET_DLPACK_H

#include <dlpack/dlpack.h>

#include "ipcnet_value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** DLPack's type code for bool (kDLBool, added in DLPack 0.8; the same
 *  number is used whatever the version of dlpack.h). */
#define IPCN_DLPACK_BOOL_CODE 6

/**
 * ipcn_tensor_to_dlpack() - fill *out as a DLTensor view of t: data is
 * t->data (not copied; DLPack has no const, but the memory must be treated
 * as read-only when it is a received message), device CPU, shape and
 * strides point into *t itself, so t must stay alive and unchanged while
 * *out is used.  dtype: int/uint/float of the width, bfloat16 as kDLBfloat,
 * bool as IPCN_DLPACK_BOOL_CODE with 8 bits; lanes 1.
 * Returns 100; 200 for an invalid tensor, or elements in a byte order
 * other than the machine's (DLPack has no byte order: copy first with
 * ipcn_tensor_copy()).  *out is untouched on failure.  Since: 0.1
 */
IPCN_API int ipcn_tensor_to_dlpack(const ipcn_tensor *t, DLTensor *out);

/**
 * ipcn_tensor_from_dlpack() - describe a DLPack tensor as an ipcn_tensor
 * (for ipcn_tensor_encode()): data + byte_offset, shape, strides (NULL
 * strides mean row-major contiguous), native byte order.  Nothing is
 * copied; dl's memory must stay valid while *out is used.
 * Returns 100; 200 for a malformed dl (NULL data with elements, negative
 * dimensions, ndim < 0); 301 for what IPCNet has no dtype or device for
 * (a device other than CPU or CUDA host memory, lanes other than 1,
 * complex, other widths, more than IPCN_TENSOR_MAX_DIMS dimensions).
 * Since: 0.1
 */
IPCN_API int ipcn_tensor_from_dlpack(const DLTensor *dl, ipcn_tensor *out);

#ifdef __cplusplus
}
#endif
#endif /* IPCNET_DLPACK_H */
