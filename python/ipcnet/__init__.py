# SPDX-License-Identifier: MIT
"""IPCNet for Python: processes of one host find each other, share data and
call each other's services, with no broker.  A binding of libipcnet (the C
library does the protocol; this package converts values and calls it).

    import ipcnet

    with ipcnet.Node("adder") as node:    # its I/O thread runs at once
        @node.offer("math/add")
        def add(req):
            return req.value["a"] + req.value["b"]
        ...

    with ipcnet.Node("user") as node:
        node.wait_synced(2.0)
        print(node.request("math/add", {"a": 1, "b": 2}).value)   # 3

Values.  Python objects travel as CBOR (encoding "cbor"): dict, list,
tuple, str, bytes, int (-2**64 .. 2**64-1), float, bool, None, and tensors
nested anywhere.  A str alone travels as "text/plain", bytes as "bytes", and
a tensor -- a NumPy array, a torch tensor, anything with __dlpack__ or the
buffer protocol with a format -- as "tensor" (RFC 8746).  Received values are
decoded by their encoding (Message.value).  A received tensor is an
ipcnet.Tensor, a view of its bytes inside the message with no copy:
numpy.asarray(t) and memoryview(t) read it in place (read-only);
numpy.from_dlpack(t), torch.from_dlpack(t) and, in TensorFlow,
tf.experimental.dlpack.from_dlpack(t.__dlpack__()) get a writable private
copy (t.writable(), ipcn_msg_writable()): a snapshot taken at that call, one
pass over the bytes, that nothing the publisher does later can change;
Message.verify() of it says whether it holds the bytes as published.
Shared memory: a large sample lies in a slot of its publisher's pool, and
everything made from it -- the Message, its Tensors, their memoryviews and
NumPy views, and the DLPack tensors of torch.from_dlpack(t) and
numpy.from_dlpack(t) -- pins that slot until the last of them is freed.
The pool has a few slots, and a subscriber that holds its share gets no
more samples of it (SubStats.withheld): let them go, or copy what you keep
(numpy.array(t), torch.from_dlpack(t).clone()).

Threads.  A Node runs its own I/O thread from the start (start=True, the
default, as a ZeroMQ context does): it links to peers, learns of
subscribers, answers heartbeats and runs the callbacks (subscriptions,
services, events, request_async), so a script that only publishes in a
loop reaches its subscribers, and idles at no CPU.  A program with an event
loop of its own opens its nodes with start=False and calls dispatch() when
fileno() is readable or timeout() runs out: nothing of the node's I/O
happens otherwise, except inside the calls that wait.  In asyncio, use
ipcnet.aio.Node: the loop drives it, with no thread, and request(),
subscriptions and the waits are coroutines.  A node
runs until close() (or the end of its with block, or the interpreter's
exit), not until it is garbage-collected.  Every call that waits releases
the GIL and sleeps until something comes; close() from another thread ends
those waits at once (request(), query() and the wait_* calls raise
ServiceUnavailable, take() returns None, iteration stops).  An exception
raised by a callback is reported through sys.unraisablehook; one raised by
a service handler also answers the request with 300 Internal Process Error
(ipcnet.Error subclasses answer with their own status).

Timeouts are in seconds (float); None waits forever (Subscription.take,
dispatch and the wait_* calls wake up for Ctrl-C; query and request see it
once they end).  Failures raise ipcnet.Error subclasses carrying .status
(the IPCNet status code): help(ipcnet.Error) lists them.

Records.  What the calls return besides messages are named tuples (or
frozen dataclasses), each documented in its own help(): Resource (find),
Peer (peers), Event (events), SubscriptionInfo (subscriptions), SubStats
(Subscription.stats), NodeStats (stats), PoolStats (pool_stats),
TrafficItem (traffic), ShutdownInfo (on_shutdown), Owner (owner), Answers
and Answer (request in a mode).  Type stubs (__init__.pyi) type them all.
"""
import atexit
import collections
import concurrent.futures
import dataclasses
import itertools
import os
import threading
import time
import weakref

from . import _ipcnet
from ._ipcnet import Message, Tensor, pattern_match, status_str
from ._redundancy import REQUEST_MODES as _REQUEST_MODES
from ._redundancy import Answer, Answers, Owner  # ipcnet_redundancy.h

# What help(ipcnet) documents in full and `from ipcnet import *` takes: the
# behaviour.  The exception subclasses and the records are public as well
# (ipcnet.NotFound, ipcnet.Peer, typed in __init__.pyi) but documented once,
# in Error's and the module's docstrings: in full, each repeated what it
# inherits from Exception or tuple, and help(ipcnet) ran to 3800 lines.
__all__ = [
    "Node", "Subscription", "Message", "Tensor", "Tag", "Reply", "Error",
    "dumps", "loads", "encode", "decode", "status_str", "pattern_match", "version",
]

__version__ = _ipcnet.version()


def version():
    """The C library's version string ("0.1.0")."""
    return _ipcnet.version()


# ---------------------------------------------------------------- errors

class Error(Exception):
    """An IPCNet status other than success: .status is its code, .text what
    happened, .reply the provider's answer when one came (a Message).

    Raise one from a service handler to answer with its status:
    ``raise ipcnet.NotFound("no such user")`` or ``raise ipcnet.Error(1001,
    "out of stock")`` (application codes are 1000 and up).

    A status has its own subclass (ipcnet.<name>), which also derives from
    the built-in exception named, so ``except LookupError`` catches
    ipcnet.NotFound:
    """

    status = 300    # the subclasses' own; Error("text") is a 300
    answers = None  # Node.request() in a mode: its Answers (Since: 0.2)

    def __new__(cls, *args, **kw):
        # One message argument for the base classes (OSError would read
        # (status, text) as (errno, strerror)).
        return super().__new__(cls, "")

    def __init__(self, status=None, text=None, reply=None):
        if not isinstance(status, int) or isinstance(status, bool):
            if status is not None and text is None:
                status, text = None, status
            if status is None:
                status = type(self).status
        self.status = status
        self.text = text if text is not None else status_str(status)
        self.reply = reply
        super().__init__(str(self))

    def __str__(self):
        return "%d %s: %s" % (self.status, status_str(self.status), self.text)

    def __reduce__(self):
        return (type(self), (self.status, self.text))


def _error_class(name, code, *bases, doc=None):
    cls = type(name, (Error,) + bases, {"status": code, "__doc__": doc or
                                         "%d %s" % (code, status_str(code))})
    cls.__module__ = __name__
    return cls


NoData = _error_class("NoData", 103, doc="103 No Data: the provider holds no value yet.")
BadRequest = _error_class("BadRequest", 200, ValueError)
Unauthorized = _error_class("Unauthorized", 201, PermissionError)
Forbidden = _error_class("Forbidden", 202, PermissionError)
NotFound = _error_class("NotFound", 203, LookupError)
MethodNotAllowed = _error_class("MethodNotAllowed", 204)
TooManyRequests = _error_class("TooManyRequests", 205)
Conflict = _error_class("Conflict", 207)
InternalError = _error_class("InternalError", 300)
Unimplemented = _error_class("Unimplemented", 301)
BadGateway = _error_class("BadGateway", 302)
ServiceUnavailable = _error_class("ServiceUnavailable", 303, ConnectionError)
Timeout = _error_class("Timeout", 304, TimeoutError)
VersionNotSupported = _error_class("VersionNotSupported", 305)
InsufficientStorage = _error_class("InsufficientStorage", 306)
InsufficientMemory = _error_class("InsufficientMemory", 307, MemoryError)
LoopDetected = _error_class("LoopDetected", 308)

_ERRORS = {c.status: c for c in (
    NoData, BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed,
    TooManyRequests, Conflict, InternalError, Unimplemented, BadGateway,
    ServiceUnavailable, Timeout, VersionNotSupported, InsufficientStorage,
    InsufficientMemory, LoopDetected)}
# The subclasses, once, in Error's docstring: one line each.
Error.__doc__ += "".join(
    "\n        %-20s %d %s%s" % (c.__name__, code, status_str(code),
                                 "".join(", " + b.__name__ for b in c.__bases__[1:]))
    for code, c in sorted(_ERRORS.items())) + "\n"


def _make_error(status, text, reply):
    return _ERRORS.get(status, Error)(status, text, reply)


# ---------------------------------------------------------------- values

def encode(value, encoding=None):
    """(bytes, encoding): value as IPCNet sends it (see the module doc)."""
    return _ipcnet.encode(value, encoding)


def decode(data, encoding="cbor"):
    """The value of bytes of an encoding ("cbor", "tensor", "text/plain",
    "application/json", others: bytes).  Tensors are views of data."""
    return _ipcnet.decode(data, encoding)


def dumps(value):
    """value as one CBOR item (bytes), with the library's writer."""
    return _ipcnet.encode(value, "cbor")[0]


def loads(data):
    """The value of one CBOR item, with the library's reader (BadRequest
    for anything else).  Tensors in it are views of data."""
    if not len(memoryview(data)):
        raise BadRequest("no CBOR item in empty input")
    return _ipcnet.decode(data, "cbor")


class Tag(collections.namedtuple("Tag", "tag value")):
    """A CBOR tag this binding does not interpret (decoded), or one to write:
    Tag(tag_number, value)."""
    __slots__ = ()


@dataclasses.dataclass(frozen=True)
class Reply:
    """What a service handler may return to choose the status or the
    encoding of its answer: ``return ipcnet.Reply(value, status=1001)``."""
    value: object = None
    status: int = 100
    encoding: str = None


def _handle(fn, msg):
    """Run a service handler; (status, value, encoding) for the C side."""
    try:
        res = fn(msg)
    except Error as e:
        return (e.status, e.text, "text/plain")
    if isinstance(res, Reply):
        return (res.status, res.value, res.encoding)
    if isinstance(res, concurrent.futures.Future) or (
            hasattr(res, "add_done_callback") and hasattr(res, "result")):
        return (102, res, None)
    return (100, res, None)


def _defer(node, responder, future):
    """Answer a deferred request once its future is done."""
    def done(f):
        try:
            try:
                res = f.result()
            except Error as e:
                node._respond(responder, e.status, e.text, "text/plain")
                return
            except BaseException as e:  # noqa: B902 - reported, then answered 300
                node._respond(responder, 300, "%s: %s" % (type(e).__name__, e),
                              "text/plain")
                raise
            if isinstance(res, Reply):
                node._respond(responder, res.status, res.value, res.encoding)
            else:
                node._respond(responder, 100, res, None)
        except (ServiceUnavailable, NotFound, ValueError):
            pass  # the requester left, or the node was closed
    future.add_done_callback(done)


def _complete(future, status, msg, path):
    """An asynchronous request's answer came (on the node's thread)."""
    if future.done():
        return
    try:
        if 100 <= status < 200 and msg is not None:
            future.set_result(msg)
        else:
            text = "request %s" % path
            if msg is not None and len(msg) and isinstance(msg.value, str):
                text = msg.value
            future.set_exception(_make_error(status if not 100 <= status < 200 else 300,
                                             text, msg))
    except concurrent.futures.InvalidStateError:
        pass  # cancelled meanwhile


_ipcnet._setup(_make_error, _handle, _defer, _complete, Tag)


# ---------------------------------------------------------------- records

_KINDS = {"any": 0, None: 0, "data": 1, "stream": 2, "service": 3}
_ACCESS_VERBS = {"read": 1, "write": 2, "execute": 4}  # IPCN_ACCESS_*


def _kind(kind):
    try:
        return _KINDS[kind]
    except (KeyError, TypeError):
        raise ValueError("kind must be 'data', 'stream' or 'service', not %r" % (kind,)) from None


@dataclasses.dataclass(frozen=True)
class Resource:
    """A resource known to the network (Node.find())."""
    path: str
    kind: str          # "data", "stream" or "service"
    encoding: str
    meta: object       # the metadata decoded (CBOR by convention); bytes otherwise; None if none
    provider: str
    provider_id: int
    version: int

    @property
    def schema(self):
        """The type a typed data or stream resource declares for its values
        (its meta's "schema", see Node.announce(schema=)), or None.
        Since: 0.2"""
        if self.kind != "service" and isinstance(self.meta, dict):
            return self.meta.get("schema")
        return None


Peer = collections.namedtuple("Peer", "name id pid uid gid linked_ns resources frames_in "
                              "frames_out bytes_in bytes_out bad_frames drops groups exe "
                              "exe_sha256 denied audited criticality ready")
Peer.__doc__ = ("A linked peer (Node.peers()).  groups, exe and exe_sha256 are its principal "
                "as the kernel told it when the link started: its supplementary groups (a "
                "tuple of gids), its executable's path (None when it could not be read: "
                "another user's process) and the SHA-256 of that file (32 bytes, or None).  "
                "denied: what this node refused it by policy or its own rules; audited: what "
                "an audit policy let through that deny would refuse.  criticality "
                "('optional', 'important', 'critical', or None when not told) and ready "
                "(a bool): what it said of itself (Node.ready(); Since: 0.2).")
Event = collections.namedtuple("Event", "type peer peer_id path kind status")
Event.__doc__ = ("A network event: type is 'peer_up', 'peer_down', 'resource_up' or "
                 "'resource_down'; path and kind for resource events only; status for "
                 "peer_down (100 goodbye, 303 hang-up or death, 304 heartbeat timeout, "
                 "200 bad input).  type 'quarantine' (Since: 0.2): the peer (the subject) was "
                 "quarantined (status 205), banned (202) or lifted (100), path the latest "
                 "evidence (docs/reputation.md).  type 'compromise' (Since: 0.2): evidence that the peer "
                 "is compromised (docs/compromise.md); path is the evidence's text, kind "
                 "its kind ('exe_changed', 'exe_hash', 'provide', 'identity', "
                 "'violations', 'tampered'), status the action taken (0 report, "
                 "1 isolate, 2 isolate and shut down safely).  type 'peer_ready' (Since: "
                 "0.2): the peer said it is ready (Node.ready()), once per peer.  type "
                 "'critical_lost' (Since: 0.2): a peer that said it is critical left or "
                 "died; after its 'peer_down', with the same status.  type 'owner' "
                 "(Since: 0.2): the owner of an owned path this node provides, "
                 "subscribes to or queried changed (Node.announce(strength=)): path and "
                 "kind, peer the new owner (this node's own name when it took over; '' "
                 "with status 303 when none is left).")
ShutdownInfo = collections.namedtuple("ShutdownInfo", "phase system_phase deadline_ms reason by")
ShutdownInfo.__doc__ = ("What a shutdown handler (Node.on_shutdown()) is told: phase 'safe_state' "
                        "or 'stop'; system_phase, the system's phase (1 safe state, 2 producers "
                        "stop, 3 consumers stop, 4 the rest); deadline_ms, the time the asker "
                        "gives (0: not told); reason, why ('' when not told); by, the asking "
                        "node's name.  Since: 0.2")
_SHUTDOWN_PHASES = {"safe_state": 1, "stop": 2}


def _shutdown_phase(phase):
    try:
        return _SHUTDOWN_PHASES[phase]
    except (KeyError, TypeError):
        raise ValueError("phase must be 'safe_state' or 'stop', not %r" % (phase,)) from None


SubStats = collections.namedtuple(
    "SubStats", "received delivered dropped lost queued withheld unmappable resets notices "
    "standby nonconforming history")
SubStats.__doc__ = ("A subscription's counters (ipcn_sub_stats in ipcnet.h): samples only "
                    "(received = delivered + dropped + samples queued); withheld: shared-memory "
                    "samples the publisher kept back because this node held its share of the "
                    "pool; unmappable: samples whose pool could not be mapped; resets: "
                    "sequence jumps beyond 2**20 or backwards; notices: 'provider gone' "
                    "messages (not samples); standby (Since: 0.2): samples of an owned path "
                    "from a provider that does not own it (a hot standby), dropped here; "
                    "nonconforming (Since: 0.2): samples of a typed resource not of its "
                    "declared type, dropped here (Node.announce(schema=)); "
                    "history (Since: 0.2): of received, the samples providers kept for late "
                    "subscribers (a current value, a stream's last ones).")
NodeStats = collections.namedtuple("NodeStats", "frames_in frames_out bytes_in bytes_out "
                                   "bad_frames links_refused peers_lost drops peers resources "
                                   "pings_sent requests_abandoned typed_refused "
                                   "typed_dropped")
NodeStats.__doc__ = ("A node's counters (ipcn_node_stats in ipcnet.h, the first of them); "
                     "typed_refused and typed_dropped (Since: 0.2): values of typed "
                     "resources this node refused to publish or set, and peers' values it "
                     "dropped, because they were not of the declared type.")
SubscriptionInfo = collections.namedtuple("SubscriptionInfo", "node node_id pattern")
PoolStats = collections.namedtuple("PoolStats", "slots free loaned held slot_size pools "
                                   "published reclaimed refused")
PoolStats.__doc__ = "The counters of a resource's shared-memory pool (Node.pool_stats())."
TrafficItem = collections.namedtuple("TrafficItem", "peer peer_id path verb anomalous "
                                     "rate_per_s rate_now mean_bytes count bytes idle_s "
                                     "anomalies")
TrafficItem.__doc__ = ("What one linked peer sends this node on one path with one verb "
                       "(Node.traffic(); ipcn_traffic_item in ipcnet.h): verb is 'request', "
                       "'query', 'set' or 'sample'; path '*' for the rest past 64 paths; "
                       "rate_per_s its normal rate (frames a second, weighted over "
                       "one-second windows), rate_now the last second's; anomalous while "
                       "it is over the policy's anomaly bound, anomalies the episodes.")


def _meta_value(raw):
    if not raw:
        return None
    try:
        return loads(raw)
    except Error:
        return raw


# ---------------------------------------------------------------- nodes

_open_nodes = weakref.WeakSet()
_names = itertools.count(1)


@atexit.register
def _close_all():
    # Before the interpreter stops its threads: a node's thread must not be
    # in a callback then.
    for node in list(_open_nodes):
        try:
            node.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


_criticalities = {"optional": 1, "important": 2, "critical": 3}


class Node(_ipcnet._Node):
    """A node of an IPCNet network (ipcn_node_open): a context manager that
    closes it on exit.

    name:     unique in the network, [A-Za-z0-9._-]{1,64}; default
              "python.<pid>.<n>".
    network:  default $IPCNET_NETWORK, else "default".
    dir:      the base directory; default $IPCNET_DIR, else
              $XDG_RUNTIME_DIR/ipcnet, else /tmp/ipcnet-<uid>.
    start:    run the node's thread at once (default): it does the node's
              I/O and runs the callbacks.  False: nothing runs until start()
              or dispatch() (for programs that drive the node from their
              own event loop, with fileno() and dispatch()).
    on_event: called with an Event for peers and resources coming and going.
    criticality: how much the robot needs this node, told to every peer:
              "optional", "important" or "critical" (Since: 0.2); default
              $IPCNET_CRITICALITY, else none.
    The other options are those of ipcn_node_opts (0: the library's default).

    The node lives until close() (a with block closes it), not until it is
    garbage-collected; close() from another thread ends the calls that wait
    in it with ServiceUnavailable.
    """

    def __init__(self, name=None, network=None, dir=None, *, start=True, on_event=None,
                 heartbeat_ms=0, dead_after_ms=0, max_payload=0, tx_limit=0,
                 idle_probe_ms=0, max_peers=0, criticality=None):
        if name is None:
            name = "python.%d.%d" % (os.getpid(), next(_names))
        if dir is not None:
            dir = os.fspath(dir)
        if criticality is None:
            crit = 0
        elif criticality in _criticalities:
            crit = _criticalities[criticality]
        else:
            raise ValueError("criticality is 'optional', 'important' or 'critical', not %r"
                             % (criticality,))
        super().__init__(name, network, dir, heartbeat_ms, dead_after_ms, max_payload,
                         tx_limit, idle_probe_ms, max_peers, crit)
        self._encodings = {}
        self._lock = threading.Lock()
        _open_nodes.add(self)
        if on_event is not None:
            self.set_event_callback(on_event)
        if start:
            self.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self.closed:
            return "<ipcnet.Node (closed)>"
        return "<ipcnet.Node %s id=%016x>" % (self.name, self.id)

    # -- resources

    def announce(self, path, kind="stream", encoding=None, meta=None, *, strength=None,
                 standby=None, schema=None, keep=None):
        """Make a resource known: kind "stream", "data" or "service".
        encoding says how its values travel; None: "cbor" (any Python value;
        use "tensor" for a stream of arrays, "text/plain" for text).
        meta: a value (sent as CBOR) or bytes (as they are).
        Returns True when new, False when it replaced this node's own.

        strength (an int) or standby ("hot", the default, or "warm") makes
        a data or stream path owned (ipcn_announce_owned(), Since: 0.2):
        several nodes may provide it, and every node takes samples and
        answers from the strongest live one (of equal strengths, the node
        name that sorts first); the next one takes over when it goes, and
        the event 'owner' tells.  A hot standby publishes all the time (its
        samples are dropped by subscribers, SubStats.standby); a warm one's
        publish() raises Conflict until it owns the path.  Raises Conflict
        when the path is provided without ownership (and the other way
        round).

        keep (Since: 0.2; ipcn_announce_keep()): what a subscriber that
        comes later gets first: a stream's last keep samples (0 to 1024;
        default 0), a data resource's current value (1, the default: data
        is latched) or not (0).  None leaves it as it is.

        schema (Since: 0.2) types a data or stream resource: the type of its
        values in the language of offer_typed() ("float", {"array": "int"},
        {"map": {"gain": "float", "note": {"optional": "text"}}}, ...; an
        int is accepted where a float is declared).  It travels in the
        descriptor (meta["schema"], Resource.schema), publish() and set() of
        a value not of the type raise BadRequest and send nothing, and every
        node that receives one drops it (SubStats.nonconforming).  The
        encoding must be CBOR (the default); meta, if given, a dict."""
        k = _kind(kind)
        if k == 0:
            raise ValueError("announce needs a kind: 'data', 'stream' or 'service'")
        if encoding is None:
            encoding = "cbor"
        if schema is not None:
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                raise TypeError("announce(schema=) needs meta as a dict (sent as a CBOR "
                                "map with the type under \"schema\"), not %s"
                                % type(meta).__name__)
            if "schema" in meta:
                raise ValueError("give the type as schema= or as meta['schema'], not both")
            meta = dict(meta, schema=schema)
        if meta is not None and not isinstance(meta, (bytes, bytearray, memoryview)):
            meta = dumps(meta)
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool)
                                 or keep < 0):
            raise ValueError("keep must be an int >= 0, not %r" % (keep,))
        if strength is None and standby is None:
            st = self._announce(path, k, encoding, meta, -1 if keep is None else keep)
        else:
            if keep is not None:
                raise ValueError("keep is not for owned paths (strength, standby)")
            if standby not in (None, "hot", "warm"):
                raise ValueError("standby is 'hot' or 'warm', not %r" % (standby,))
            if strength is None:
                strength = 0
            if not isinstance(strength, int) or isinstance(strength, bool):
                raise TypeError("strength must be an int, not %r" % (strength,))
            st = self._announce_owned(path, k, encoding, meta, strength, standby == "warm")
        with self._lock:
            self._encodings[path] = encoding
        return st == 101

    def owner(self, path):
        """Who owns the owned path, as this node sees it (an Owner).  Raises
        NotFound when no live provider announced it owned.  Since: 0.2"""
        return Owner(*self._owner(path))

    def withdraw(self, path):
        """Remove a resource (stream, data or service) this node announced."""
        self._withdraw(path)
        with self._lock:
            self._encodings.pop(path, None)

    def find(self, pattern="**", kind=None):
        """The resources matching pattern ('*' one level, '**' any depth),
        of kind ("data", "stream", "service"; None: all), own included."""
        return [Resource(p, k, e, _meta_value(m), prov, pid, ver)
                for (p, k, e, m, prov, pid, ver) in self._find(pattern, _kind(kind))]

    # -- data and streams

    def publish(self, path, value):
        """Publish value on a stream or data resource this node announced,
        encoded as its announced encoding.  A large tensor is copied once,
        straight into a shared-memory slot."""
        self._publish(path, value, self._encodings.get(path))

    def publish_derived(self, path, value, parents, passthrough=False):
        """Publish value on path as derived from the received Messages in
        parents: it carries a provenance record naming them (their
        .provenance), so a verifier can trace it back to its origins
        (ipcn_publish_derived).  passthrough: value is parents[0]'s payload,
        unchanged (verification checks it).  Raises NoData (103) for a parent
        that carries no record, as publish() otherwise."""
        self._publish_derived(path, value, self._encodings.get(path), parents,
                              2 if passthrough else 0)

    def prov_enable(self, path=None, on=True):
        """Provenance on (or off) for the samples this node publishes on path,
        or with path None for every resource it announces from now on
        (ipcn_prov_enable; IPCNET_PROVENANCE=on does that for a process)."""
        self._prov_enable(path, bool(on))

    def prov_verify(self, message, timeout=5.0):
        """Verify message's provenance back to its origins (ipcn_prov_verify):
        returns (records, stages) checked; raises Forbidden (202) for a
        payload that is not the one recorded or a pass-through that changed
        it, Unauthorized (201) for a record or signature that does not
        verify, NotFound (203), Timeout (304), NoData (103) without a
        record; the exception's text says which stage."""
        st, records, depth, reason = self._prov_verify(message, int(timeout * 1000))
        if st != 100:
            raise _make_error(st, reason or status_str(st), None)
        return records, depth

    def prov_export(self, message, timeout=5.0):
        """message's verified lineage as W3C PROV-JSON text
        (ipcn_prov_export_json)."""
        return self._prov_export(message, int(timeout * 1000))

    def query(self, path, timeout=1.0):
        """The current value of a data resource, as a Message (.value).
        Raises NoData (103) when its provider holds none yet, NotFound (203),
        Timeout (304), ..."""
        return self._query(path, timeout)

    def history(self, path, values=True, timeout=1.0):
        """The debug history of a data resource (ipcnet_history.h): the
        versions its provider keeps, oldest first, with who set each and
        when.  Returns a dict: node, path, depth, max_bytes, bytes, dropped,
        current, and entries, each a dict of version, wall_ns, mono_ns,
        encoding, data (bytes; None when values is False), size, setter,
        setter_id, uid, pid (-1 when not known) and via ("publish" or
        "set").  Raises MethodNotAllowed (204) when it keeps no history (or
        is not data), NotFound (203) when nothing provides it or this node
        may not read it, Timeout (304), ..."""
        return self._history(path, bool(values), timeout)

    def query_version(self, path, version, timeout=1.0):
        """A past value of a data resource, from its provider's debug
        history, as a Message (.value, .seq the version).  Raises NotFound
        (203) for a version no longer kept or never set, MethodNotAllowed
        (204) when it keeps no history, ..."""
        return self._query_version(path, version, timeout)

    def announce_history(self, path, depth, max_bytes=0):
        """Keep the last depth versions (1..1024; 0: off) of this node's data
        resource path, with who set each and when, at most max_bytes of
        values (0: 4 MiB), whatever the network policy says."""
        self._announce_history(path, depth, max_bytes)

    def set(self, path, value, encoding=None, expect_version=0, timeout=1.0):
        """Set the value of a data resource held by another node (or this
        one): a parameter.  value is encoded as the resource's encoding
        unless encoding is given.  expect_version 0 sets whatever the
        current version; otherwise the resource's version (the .seq of its
        value, as query() gives it) must be this one.  Returns the new
        version.  Raises Conflict (207) when the version changed, with the
        current one in .version; the provider's refusal (Forbidden,
        BadRequest, an application code); NotFound (203), MethodNotAllowed
        (204, a stream or service), Timeout (304), ..."""
        if encoding is None:
            encoding = self._encoding_of(path)
        st, version = self._set(path, value, encoding, expect_version, timeout)
        if st == 207:
            e = Conflict("set %s: the version is %d, not %d"
                         % (path, version, expect_version))
            e.version = version
            raise e
        return version

    def on_set(self, path, fn=None):
        """Check the values others set (set()) on a data resource this node
        announced; usable as a decorator (@node.on_set("arm/gain")).
        fn(msg: Message) sees the new value (.value, .encoding, .src: the
        setter) before it is published; it returns None or True to accept,
        False to refuse with Forbidden (202), or raises an ipcnet.Error
        whose status goes back to the setter (another exception: 300).  It
        runs on the node's thread (or in dispatch()); for a set of this
        node itself, on the thread that calls set().  Without a check a
        value of the resource's encoding is accepted (remove_on_set())."""
        def wrap(f):
            if not callable(f):
                raise TypeError("a set check must be callable")

            def check(msg):
                try:
                    ok = f(msg)
                except Error as e:
                    return e.status
                return 202 if ok is False else 100
            self._on_set(path, check)
            return f
        if fn is None:
            return wrap
        return wrap(fn)

    def remove_on_set(self, path):
        """Remove the set check of path (on_set())."""
        self._on_set(path, None)

    # -- the system's ordered shutdown (ipcnet.h, docs/protocol.md 12.4)

    def on_shutdown(self, phase, fn=None):
        """Take part in the system's ordered shutdown; usable as a decorator
        (@node.on_shutdown("safe_state")).  When a principal allowed to
        (execute of "system/shutdown" in the network policy) asks this node
        for phase ('safe_state': bring what it drives to a safe state;
        'stop': finish, release, exit), fn(info: ShutdownInfo) runs on the
        node's thread (or in dispatch()), and what it returns is the answer:
        None for 100 (done), a status (102: confirmed later with
        shutdown_done()), or it raises an ipcnet.Error whose status is
        answered (another exception: 300).  One handler per phase; a phase
        without one is answered 103 (remove_on_shutdown()).  Since: 0.2"""
        code = _shutdown_phase(phase)

        def wrap(f):
            if not callable(f):
                raise TypeError("a shutdown handler must be callable")

            def handler(ph, system_phase, deadline_ms, reason, by):
                try:
                    st = f(ShutdownInfo(ph, system_phase, deadline_ms, reason, by))
                except Error as e:
                    return e.status
                if st is None:
                    return 100
                if isinstance(st, bool) or not isinstance(st, int):
                    raise TypeError("a shutdown handler returns a status (int) or None, not %r"
                                    % (st,))
                return st
            self._on_shutdown(code, handler)
            return f
        if fn is None:
            return wrap
        return wrap(fn)

    def remove_on_shutdown(self, phase):
        """Remove the shutdown handler of phase (on_shutdown()): asked for
        it, this node answers 103."""
        self._on_shutdown(_shutdown_phase(phase), None)

    def shutdown_done(self, phase, status=100):
        """Confirm a phase whose handler returned 102: the asker gets status
        (100 when done).  Raises NotFound when no answer of that phase is
        awaited (the asker left, or it was answered), BadRequest for a bad
        status.  Thread-safe.  Since: 0.2"""
        self._shutdown_done(_shutdown_phase(phase), int(status))

    # -- who may do what (docs/policy.md)

    def set_access(self, path, rules):
        """This node's own rules for path, which narrow the network policy
        (ipcn_resource_set_access()): rules is a list of (effect, verbs,
        who) tuples, effect "allow" or "deny", verbs one of "read",
        "write", "execute" or a list of them, who a selector ("any",
        "user:NAME", "unix_group:NAME", "group:NAME", "node:GLOB",
        "exe:PATH", "sha256:HEX"; conditions separated by spaces must all
        hold).  For a verb some rule names, a peer must match an allow rule
        and no deny rule of it.  Replaces the rules set before; [] removes
        them.  May be called before path is announced.  A peer that may
        not read path is told NotFound (203) for it, one that may read it
        but not do the rest Forbidden (202).  Raises ValueError for an
        unknown effect or verb, BadRequest (200) for a bad path or selector
        (or a user or group that does not exist), TooManyRequests (205)."""
        out = []
        for rule in rules:
            effect, verbs, who = rule
            if effect not in ("allow", "deny"):
                raise ValueError("an access rule is 'allow' or 'deny', not %r" % (effect,))
            mask = 0
            for v in ([verbs] if isinstance(verbs, str) else verbs):
                if v not in _ACCESS_VERBS:
                    raise ValueError("a verb is 'read', 'write' or 'execute', not %r" % (v,))
                mask |= _ACCESS_VERBS[v]
            out.append((effect == "deny", mask, who))
        self._set_access(path, out)

    def set_limits(self, path, requests_per_s=0.0, samples_per_s=0.0,
                   bytes_per_s=0.0, burst=0, inflight=0):
        """This node's own limits for path (a path or a pattern), per peer,
        on top of the network policy's (ipcn_resource_set_limits()): a
        peer's requests, queries and sets over requests_per_s are answered
        TooManyRequests (205) with a retry time (Message.retry_after_ms),
        its samples over samples_per_s are dropped and counted; bytes_per_s
        limits the data of both; burst is the bucket depth (0: one second's
        worth); inflight caps its requests queued or running.  0: no limit
        of that kind.  May be called before path is announced; replaces
        the limits set before.  Raises BadRequest (200) for a bad path or
        no limit at all, TooManyRequests (205) past 1024 paths."""
        self._set_limits(path, (float(requests_per_s), float(samples_per_s),
                                float(bytes_per_s), int(burst), int(inflight)))

    def remove_limits(self, path):
        """Remove this node's own limits for path (set_limits())."""
        self._set_limits(path, None)

    def group_create(self, name):
        """Create an empty group of this node that its own rules may name as
        "group:NAME" (other nodes do not see it; it ends with the node).
        Raises Conflict (207) when this node or the policy has one of that
        name, BadRequest (200) for a bad name."""
        self._group("create", name)

    def group_add(self, name, who):
        """Make the principals matching selector who (naming no group)
        members of this node's group name; decisions change at once.
        Raises NotFound (203) for no such group, BadRequest (200)."""
        self._group("add", name, who)

    def group_remove(self, name, who):
        """Take selector who (written as when added) out of group name.
        Raises NotFound (203) for no such group or member."""
        self._group("remove", name, who)

    def group_delete(self, name):
        """Delete this node's group name.  Raises NotFound (203)."""
        self._group("delete", name)

    def _encoding_of(self, path):
        """The encoding of a data resource, as announced (None: unknown)."""
        with self._lock:
            enc = self._encodings.get(path)
        if enc is None:
            try:
                # A path finds itself only (as the node resolves it: its
                # namespace and remap rules), a pattern nothing here.
                found = [] if "*" in path else self.find(path, "data")
            except Error:
                found = []
            enc = found[0].encoding if found else None
        return enc or None

    def subscribe(self, pattern, callback=None, depth=64, *, history=True):
        """Receive the samples of every stream and data resource matching
        pattern.  With callback, it is called with each Message (on the
        node's thread or in dispatch()); without, samples queue (depth of
        them, the oldest dropped) for Subscription.take() or iteration.
        A Message of status 303 says a provider withdrew or left.
        What providers keep comes first (Since: 0.2): a data resource's
        current value, a stream's last samples (announce(keep=...)), then
        every later sample, none twice; history=False: only what is
        published from now on."""
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        sid = self._subscribe(pattern, depth, callback, bool(history))
        return Subscription(self, pattern, sid, callback)

    # -- services

    def offer(self, path, fn=None, *, encoding=None, args=None, returns=None,
              at_most_once=False, cache_ms=0, cache_entries=0):
        """Offer a service; usable as a decorator (@node.offer("svc/add")).

        fn(request: Message) returns the answer's value (encoded by its type,
        see the module doc), a Reply (status, encoding), or a Future (the
        answer is sent when it is done).  Raising ipcnet.Error answers with
        its status; raising anything else answers 300 and is reported.
        encoding: the requests' encoding, announced (default "cbor").
        args, returns: declared types (see ipcn_offer_typed() in ipcnet.h,
        e.g. {"map": {"a": "int", "b": "int"}}); requests that do not match
        args get 200 before fn runs.
        at_most_once: fn is not idempotent (Since: 0.2): a retry of a
        request it ran (the same request_id, see request()) is answered from
        a cache and does not run fn again; cache_ms, cache_entries bound
        the cache (0: the defaults, 30 s and 1024).  What this does and does
        not guarantee: ipcn_offer_opts in ipcnet_redundancy.h."""
        def register(f):
            typed = args is not None or returns is not None
            self._offer(path, encoding, f, typed,
                        dumps(args) if args is not None else None,
                        dumps(returns) if returns is not None else None)
            if at_most_once or cache_ms or cache_entries:
                try:
                    self._offer_set_opts(path, bool(at_most_once), cache_ms, cache_entries)
                except BaseException:
                    self._withdraw(path)
                    raise
            with self._lock:
                self._encodings[path] = "cbor" if typed else (encoding or "cbor")
            return f
        if fn is None:
            return register
        return register(fn)

    def request(self, path, value=None, timeout=1.0, *, encoding=None, mode=None, quorum=0,
                tolerance=0.0, request_id=0, max_providers=0):
        """Call a service and wait for its answer (a Message; .value).
        value is encoded by its type unless encoding is given; None sends an
        empty request.  Raises the Error of the provider's status (its
        answer in .reply) or NotFound, Timeout, ServiceUnavailable, ...

        With mode or request_id (Since: 0.2; ipcn_request_ex() in
        ipcnet_redundancy.h) it returns an Answers instead:
          mode="any":  one provider, the next if it fails (as without mode);
          mode="all":  every provider at once; status 100, or 104 when some
                       did not answer by the deadline (their items 304, or
                       303 when they left);
          mode="vote": every provider at once; quorum (0: a majority of
                       those asked) equal answers win (CBOR numbers within
                       tolerance count as equal); .winner, .dissenting.
        max_providers: "all" and "vote" ask at most this many (0: all, up
        to 16).  request_id: that of an earlier Answers, to retry it (a
        provider that offers the service at_most_once does not run it
        again).  Any other status raises its Error with the answers in its
        .answers (Conflict: no quorum; Timeout: too few answered)."""
        if mode is None and not request_id:
            return self._request(path, value, encoding, timeout)
        m = _REQUEST_MODES.get("any" if mode is None else mode)
        if m is None:
            raise ValueError("mode is 'any', 'all' or 'vote', not %r" % (mode,))
        ans = Answers(*self._request_ex(path, value, encoding, timeout, m, quorum,
                                        float(tolerance), request_id, max_providers))
        if 100 <= ans.status < 200:
            return ans
        reply = ans.winner
        if reply is None:
            for item in ans.items:
                if item.message is not None:
                    reply = item.message
                    break
        err = _make_error(ans.status, "request %s" % path, reply)
        err.answers = ans
        raise err

    def request_async(self, path, value=None, timeout=1.0, *, encoding=None):
        """request() without waiting: a concurrent.futures.Future of the
        answer, completed on the node's thread (or, for a node opened with
        start=False, from dispatch()).  Cancelling the future
        cancels the request."""
        fut = concurrent.futures.Future()
        rid = self._request_async(path, value, encoding, timeout, fut)
        ref = weakref.ref(self)

        def on_done(f):
            node = ref()
            if f.cancelled() and node is not None:
                node._request_cancel(rid)
        fut.add_done_callback(on_done)
        return fut

    # -- network

    def _poll(self, cond, timeout, what):
        """Until cond() is true: dispatching when no thread runs."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            res = cond()
            if res:
                return res
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise Timeout("%s: not within %s s" % (what, timeout))
            step = 0.005 if left is None else min(0.005, left)
            try:
                self.dispatch(step)
            except ServiceUnavailable:  # the node's thread dispatches
                time.sleep(step)

    def wait_for(self, pattern, kind=None, timeout=1.0):
        """Wait until a resource matching pattern (and kind) is known; the
        list of them.  Raises Timeout.  (wait_synced() waits for the network
        as it is; this, for a resource announced later.)  It sleeps in the
        kernel (ipcn_wait_for()), whether the node's thread runs or not, and
        runs no callbacks meanwhile (with start=False, those due wait for
        your next dispatch())."""
        return [Resource(p, k, e, _meta_value(m), prov, pid, ver)
                for (p, k, e, m, prov, pid, ver)
                in self._wait_for(pattern, _kind(kind), timeout)]

    def wait_subscribers(self, path, count=1, timeout=1.0):
        """Wait until count nodes other than this one subscribe to patterns
        matching path (so that what is published next reaches them)."""
        def enough():
            me = self.id
            ids = {s.node_id for s in self.subscriptions()
                   if s.node_id != me and pattern_match(s.pattern, path)}
            return len(ids) >= count
        self._poll(enough, timeout, "waiting for %d subscribers of %s" % (count, path))

    def peers(self):
        """The linked peers (list of Peer)."""
        return [Peer(*t) for t in self._peers()]

    def subscriptions(self):
        """Who subscribes to what (this node and its peers)."""
        return [SubscriptionInfo(*t) for t in self._subscriptions()]

    def traffic(self, peer=None):
        """What the linked peers (or the one named) send this node: a list of
        TrafficItem sorted by peer, path, verb.  Another node's picture is
        its node service: request("@sys/<node>/traffic") (CBOR).  Raises
        NotFound for a peer not linked."""
        return [TrafficItem(*t) for t in self._traffic(peer)]

    def stats(self):
        """The node's counters (NodeStats)."""
        return NodeStats(*self._stats())

    def pool_stats(self, path):
        """The counters of the shared-memory pool of a resource of this node
        (PoolStats): .held counts slots that subscribers still hold."""
        return PoolStats(*self._pool_stats(path))

    def set_event_callback(self, fn):
        """fn(Event) for peers and resources coming and going; None: none."""
        if fn is None:
            self._set_event_callback(None)
            return
        if not callable(fn):
            raise TypeError("the event callback must be callable")
        self._set_event_callback(lambda *a: fn(Event(*a)))


class Subscription:
    """A subscription (Node.subscribe()).  Without a callback it is an
    iterator over its samples (``for msg in sub:``; take(timeout) for one).
    A context manager: leaving it unsubscribes.  A subscription without a
    callback also ends when it is garbage-collected."""

    __slots__ = ("_node", "pattern", "id", "callback", "_active", "__weakref__")

    def __init__(self, node, pattern, sid, callback):
        self._node = node
        self.pattern = pattern
        self.id = sid
        self.callback = callback
        self._active = True

    def take(self, timeout=None):
        """The oldest queued sample (a Message), waiting up to timeout
        seconds (None: forever); None when none came in time, or when the
        node was closed meanwhile."""
        return self._node._take(self.id, timeout)

    def __iter__(self):
        return self

    def __next__(self):
        if not self._active or self._node.closed:
            raise StopIteration
        try:
            msg = self._node._take(self.id, None)
        except (NotFound, ServiceUnavailable, ValueError):
            raise StopIteration from None  # unsubscribed, or the node closed
        if msg is None:  # the node is closing
            raise StopIteration
        return msg

    def stats(self):
        """The subscription's counters (SubStats)."""
        return SubStats(*self._node._sub_stats(self.id))

    def unsubscribe(self):
        """End the subscription: no callback of it runs after this returns
        (unless one already runs on another thread)."""
        if self._active:
            self._active = False
            if not self._node.closed:
                self._node._unsubscribe(self.id)

    close = unsubscribe

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.unsubscribe()

    def __del__(self):
        if self.callback is None and self._active:
            try:
                self.unsubscribe()
            except Exception:  # noqa: BLE001 - at garbage collection
                pass

    def __repr__(self):
        return "<ipcnet.Subscription %s id=%d%s>" % (
            self.pattern, self.id, "" if self._active else " (ended)")


# ---------------------------------------------------------------- sensor messages
# Images, camera info, point clouds, IMU and joint states: ipcnet.sensor
# (ipcnet/sensor.py, docs/protocol.md "Sensor messages").  Since: 0.2
from . import sensor  # noqa: E402

Node.publish_image = sensor.publish_image
Node.publish_sensor = sensor.publish_sensor
