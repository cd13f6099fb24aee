# SPDX-License-Identifier: MIT
"""The tensors the tests send, shared by the test process and peer.py, so
that both sides know the expected values.  Each case is (name, dtype,
shape); values(name) builds it deterministically."""
import os
import re

import ipcnet

NUMPY_CASES = [
    ("f32_3d", "float32", (2, 3, 4)),
    ("f64_0d", "float64", ()),
    ("i8_1d", "int8", (5,)),
    ("u16_2d", "uint16", (3, 4)),
    ("i64_empty", "int64", (0,)),
    ("i32_empty3d", "int32", (2, 0, 3)),
    ("bool_2d", "bool", (2, 2)),
    ("f16_1d", "float16", (3,)),
    ("u8_big", "uint8", (512, 1024)),        # 512 KiB: a shared-memory sample
    ("f32_big", "float32", (256, 1024)),     # 1 MiB
]

TORCH_CASES = [
    ("t_f32_3d", "float32", (2, 3, 4)),
    ("t_f64_0d", "float64", ()),
    ("t_i8_1d", "int8", (5,)),
    ("t_i64_empty", "int64", (0,)),
    ("t_bool_1d", "bool", (4,)),
    ("t_bf16_2d", "bfloat16", (2, 3)),
    ("t_u8_3d", "uint8", (2, 2, 2)),
    ("t_f32_big", "float32", (512, 512)),    # 1 MiB: a shared-memory sample
]

SHM_MIN = ipcnet._ipcnet.SHM_THRESHOLD  # samples this large travel in shared memory


def numpy_value(dtype, shape):
    import numpy as np
    n = 1
    for d in shape:
        n *= d
    if dtype == "bool":
        return (np.arange(n) % 3 == 0).reshape(shape)
    a = np.arange(n, dtype=np.int64)
    if dtype.startswith("float"):
        return (a.astype(np.float64) * 0.5 - 3).astype(dtype).reshape(shape)
    info = np.iinfo(dtype)
    return (a % (int(info.max) + 1 if info.min == 0 else 100) - (0 if info.min == 0 else 50)) \
        .astype(dtype).reshape(shape)


def torch_value(dtype, shape):
    import torch
    n = 1
    for d in shape:
        n *= d
    if dtype == "bool":
        return (torch.arange(n) % 3 == 0).reshape(shape)
    a = torch.arange(n, dtype=torch.float64)
    if dtype in ("float32", "float64", "bfloat16", "float16"):
        return (a * 0.5 - 3).to(getattr(torch, dtype)).reshape(shape)
    return (a.to(torch.int64) % 100).to(getattr(torch, dtype)).reshape(shape)


def case(name):
    for c in NUMPY_CASES + TORCH_CASES:
        if c[0] == name:
            return c
    raise KeyError(name)


def value(name):
    n, dtype, shape = case(name)
    return torch_value(dtype, shape) if n.startswith("t_") else numpy_value(dtype, shape)


def memfd_ranges():
    """The address ranges of this process's mappings of IPCNet's memfds."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            if "memfd:ipcnet" in line:
                m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
                out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    return out


def in_memfd(address):
    """The permissions of the memfd mapping holding address, or None."""
    for lo, hi, perms in memfd_ranges():
        if lo <= address < hi:
            return perms
    return None


def pid():
    return os.getpid()


def digest(x):
    """sha256 of the elements' bytes (C order, native byte order) of a NumPy
    array, a torch tensor or an ipcnet.Tensor."""
    import hashlib
    import numpy as np
    if hasattr(x, "dtype") and str(x.dtype) in ("bfloat16", "torch.bfloat16"):
        import torch
        t = x if isinstance(x, torch.Tensor) else torch.from_dlpack(x)
        x = t.contiguous().view(torch.int16).numpy()
    elif type(x).__module__.startswith("torch"):
        x = x.contiguous().numpy()
    a = np.ascontiguousarray(np.asarray(x))
    return hashlib.sha256(a.tobytes()).hexdigest()
