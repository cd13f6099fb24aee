/* SPDX-License-Identifier: MIT */
/* _ipcnet_sensor.c — sensor messages (ipcnet_sensor.h): an image published
 * straight into a shared-memory slot, and the library's checks of a
 * received sensor message, so that Python reads only what C would accept
 * (see _ipcnet.h; the Python classes are in sensor.py). */
#include "_ipcnet.h"

#include <ipcnet_sensor.h>

static const struct {
    const char *name;
    ipcn_sensor_kind kind;
} kinds[] = {
    {"image", IPCN_SENSOR_IMAGE},     {"camera_info", IPCN_SENSOR_CAMERA_INFO},
    {"pointcloud", IPCN_SENSOR_POINTCLOUD}, {"imu", IPCN_SENSOR_IMU},
    {"joint_state", IPCN_SENSOR_JOINT_STATE},
};

/* _publish_image(path, array, encoding, frame_id, stamp_ns, camera_info)
 * camera_info: None, or the CBOR of a camera_info map (sensor.py writes
 * it), checked by the library. */
PyObject *node_publish_image(NodeObject *n, PyObject *args)
{
    const char *path, *encoding, *frame_id;
    PyObject *array, *cam;
    unsigned long long stamp;
    if (!PyArg_ParseTuple(args, "sOssKO:_publish_image", &path, &array, &encoding, &frame_id,
                          &stamp, &cam))
        return NULL;
    ipcn_dtype want;
    uint32_t channels;
    if (ipcn_image_format(encoding, &want, &channels) != IPCN_OK)
        return PyErr_Format(PyExc_ValueError,
                            "unknown pixel format %R (ROS image_encodings: 'rgb8', 'bgr8', "
                            "'mono8', 'mono16', '32FC1', ...)", PyTuple_GET_ITEM(args, 2));
    ipcn_image img;
    memset(&img, 0, sizeof img);
    if (ipcn_sensor_header_set(&img.header, stamp, frame_id) != IPCN_OK)
        return PyErr_Format(PyExc_ValueError, "frame_id: at most %d bytes of UTF-8",
                            IPCN_SENSOR_FRAME_ID_MAX);
    if (cam != Py_None) {
        Py_buffer cb;
        if (PyObject_GetBuffer(cam, &cb, PyBUF_SIMPLE) < 0)
            return NULL;
        int st = ipcn_camera_info_decode(cb.buf, (size_t)cb.len, &img.camera_info);
        PyBuffer_Release(&cb);
        if (st != IPCN_OK)
            return raise_statusf(st, "camera_info is not a valid CameraInfo");
        img.has_camera_info = 1;
    }
    tensor_src s;
    int r = tensor_src_get(array, &s);
    if (r <= 0) {
        if (r == 0)
            PyErr_Format(PyExc_TypeError, "an image is an array (NumPy, torch...), not a %s",
                         Py_TYPE(array)->tp_name);
        return NULL;
    }
    const ipcn_tensor *t = &s.t;
    const char *why = NULL;
    if (t->ndim != 3 && !(t->ndim == 2 && channels == 1))
        why = channels == 1 ? "an image of one channel is (height, width) or (height, width, 1)"
                            : "an image is (height, width, channels)";
    else if (t->ndim == 3 && (uint64_t)t->shape[2] != channels)
        why = "its last dimension is not the pixel format's number of channels";
    else if (t->dtype != want)
        why = "its dtype is not the pixel format's";
    if (why) {
        PyErr_Format(PyExc_ValueError, "%s (%s: %s, %u channel%s; got %s of %u dimensions)",
                     why, encoding, ipcn_dtype_name(want), channels, channels == 1 ? "" : "s",
                     ipcn_dtype_name(t->dtype), t->ndim);
        tensor_src_release(&s);
        return NULL;
    }
    ipcn_image shaped;
    if (t->shape[0] <= 0 || t->shape[1] <= 0 || t->shape[0] > INT32_MAX ||
        t->shape[1] > INT32_MAX ||
        ipcn_image_init(&shaped, encoding, (uint32_t)t->shape[0], (uint32_t)t->shape[1],
                        t->data) != IPCN_OK) {
        tensor_src_release(&s);
        return PyErr_Format(PyExc_ValueError, "an image has 1 to 2^31 - 1 rows and columns");
    }
    memcpy(img.encoding, shaped.encoding, sizeof img.encoding);
    img.height = shaped.height;
    img.width = shaped.width;
    img.channels = shaped.channels;
    img.pixels = *t; /* its strides and byte order: the encoder copies */
    if (node_enter(n) < 0) {
        tensor_src_release(&s);
        return NULL;
    }
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_publish_image(n->node, path, &img);
    Py_END_ALLOW_THREADS
    node_leave(n);
    tensor_src_release(&s);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "publish_image %s", path);
    Py_RETURN_NONE;
}

/* _sensor_check(kind, data): None when data (a Message or bytes-like) is
 * a valid message of kind, else the library's status raised with what
 * was wrong. */
PyObject *mod_sensor_check(PyObject *self, PyObject *args)
{
    const char *name;
    PyObject *obj;
    if (!PyArg_ParseTuple(args, "sO:_sensor_check", &name, &obj))
        return NULL;
    ipcn_sensor_kind kind = IPCN_SENSOR_NONE;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, name))
            kind = kinds[i].kind;
    if (kind == IPCN_SENSOR_NONE)
        return PyErr_Format(PyExc_ValueError, "no sensor message kind %R",
                            PyTuple_GET_ITEM(args, 0));
    Py_buffer view;
    const void *data;
    size_t len;
    if (Py_IS_TYPE(obj, &MessageType)) {
        const ipcn_msg *m = ((MessageObject *)obj)->msg;
        data = m->data;
        len = m->len;
        view.obj = NULL;
    } else {
        if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
            return NULL;
        data = view.buf;
        len = (size_t)view.len;
    }
    int st;
    switch (kind) {
    case IPCN_SENSOR_IMAGE: {
        ipcn_image img;
        st = ipcn_image_decode(data, len, &img);
        break;
    }
    case IPCN_SENSOR_CAMERA_INFO: {
        ipcn_camera_info ci;
        st = ipcn_camera_info_decode(data, len, &ci);
        break;
    }
    case IPCN_SENSOR_POINTCLOUD: {
        ipcn_pointcloud pc;
        st = ipcn_pointcloud_decode(data, len, &pc);
        break;
    }
    case IPCN_SENSOR_IMU: {
        ipcn_imu imu;
        st = ipcn_imu_decode(data, len, &imu);
        break;
    }
    default: {
        ipcn_joint_state js;
        memset(&js, 0, sizeof js);
        js.cap = IPCN_JOINT_MAX; /* no arrays: checked and counted only */
        st = ipcn_joint_state_decode(data, len, &js);
        break;
    }
    }
    if (view.obj)
        PyBuffer_Release(&view);
    if (st != IPCN_OK)
        return raise_statusf(st, "not a valid %s message (docs/protocol.md, \"Sensor "
                             "messages\")%s", name,
                             st == IPCN_NOT_IMPLEMENTED ? ": a pixel format or tensor this "
                                                          "library does not know" : "");
    Py_RETURN_NONE;
}
