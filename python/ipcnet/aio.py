# SPDX-License-Identifier: MIT
"""IPCNet in asyncio: a node driven by the running event loop, with no
thread of its own.

    import asyncio, ipcnet.aio

    async def main():
        async with ipcnet.aio.Node("controller") as node:
            reply = await node.request("math/add", {"a": 1, "b": 2})
            async for msg in node.subscribe("camera/**"):
                ...

    asyncio.run(main())

ipcnet.aio.Node is an ipcnet.Node opened without its I/O thread: the loop
watches the node's fd (loop.add_reader on fileno()) and dispatches when it
is readable, again at once while the node's timeout() says callbacks are
due.  Callbacks (subscriptions with a callback, services, events) run on the
loop's thread, inside that dispatch; a callback or a service handler may be
a coroutine function: it runs as a task, and a service answers when its task
is done (its exception: 300, an ipcnet.Error: its status).

What waits is a coroutine: request(), wait_for(), wait_subscribers() and
Subscription.take() / ``async for`` wait on the loop with no thread.
query(), set(), wait_peers() and wait_synced() have no asynchronous form in
the C library: they wait on a thread of the loop's default executor (the
node itself still has none).  publish(), announce(), offer() and the other
calls that do not wait are those of ipcnet.Node.  Create the node inside a
coroutine (it binds to the running loop) and close it there (``async
with``); close() ends the waits at once: pending requests raise
ServiceUnavailable, ``async for`` stops.  Since: 0.2
"""
import asyncio
import collections
import functools
import inspect
import weakref

from . import Node as _Node
from . import ServiceUnavailable, SubStats, Timeout, pattern_match
from . import Subscription as _Subscription

__all__ = ["Node", "Subscription"]


class Node(_Node):
    """A node of an IPCNet network driven by the running asyncio loop (see
    the module doc).  The arguments are those of ipcnet.Node, except start:
    this node never runs a thread.  Raises RuntimeError outside a running
    loop."""

    def __init__(self, name=None, network=None, dir=None, *, on_event=None, **opts):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("an ipcnet.aio.Node is made inside a coroutine (it is "
                               "driven by the running asyncio loop)") from None
        if "start" in opts:
            raise TypeError("an ipcnet.aio.Node runs no thread: no start argument")
        self._loop = loop
        self._handle = None           # a dispatch scheduled by timeout()
        self._waiters = set()         # futures woken after a dispatch that did work
        self._requests = set()        # futures of pending requests
        self._tasks = set()           # tasks of coroutine callbacks and handlers
        self._asubs = weakref.WeakSet()
        super().__init__(name, network, dir, start=False, **opts)
        if on_event is not None:
            self.set_event_callback(on_event)
        self._fd = self.fileno()
        loop.add_reader(self._fd, self._dispatch)
        self._schedule(0.0)  # links already started, callbacks already queued

    # -- the loop's side

    def _schedule(self, delay):
        if self._handle is None:
            if delay <= 0:
                self._handle = self._loop.call_soon(self._dispatch)
            else:
                self._handle = self._loop.call_later(delay, self._dispatch)

    def _dispatch(self):
        """The fd is readable (or the node's timeout ran out): do the work."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self.closed:
            return
        try:
            worked = _Node.dispatch(self, 0)
        except (ServiceUnavailable, ValueError):  # closing meanwhile
            return
        if worked:
            self._wake()
        left = self.timeout()
        if left is not None:
            self._schedule(left)

    def _wake(self, exc=None):
        waiters, self._waiters = self._waiters, set()
        for f in waiters:
            if not f.done():
                if exc is None:
                    f.set_result(None)
                else:
                    f.set_exception(exc)

    def _task(self, awaitable, report):
        task = asyncio.ensure_future(awaitable, loop=self._loop)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if report:
            task.add_done_callback(self._report)
        return task

    def _report(self, task):
        if not task.cancelled() and task.exception() is not None:
            self._loop.call_exception_handler({
                "message": "ipcnet.aio: a callback of node %s raised" % self.name,
                "exception": task.exception(), "task": task})

    def _wrap(self, fn, report=True):
        """fn, whose awaitable results become tasks of the loop."""
        @functools.wraps(fn)
        def call(*args):
            res = fn(*args)
            if inspect.isawaitable(res):
                return self._task(res, report)
            return res
        return call

    def dispatch(self, timeout=None):
        """Not for an ipcnet.aio.Node: its loop dispatches it."""
        raise RuntimeError("the asyncio loop dispatches an ipcnet.aio.Node")

    def start(self):
        """Not for an ipcnet.aio.Node: it runs no thread."""
        raise RuntimeError("an ipcnet.aio.Node runs no thread (use ipcnet.Node)")

    def close(self):
        """Leave the network: the loop stops watching the node, pending
        requests raise ServiceUnavailable, subscriptions' iterations stop,
        then the node closes (as ipcnet.Node.close())."""
        if not self.closed:
            try:
                self._loop.remove_reader(self._fd)
            except (RuntimeError, ValueError, AttributeError):  # the loop is closed
                pass
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None
        super().close()
        gone = ServiceUnavailable("the node was closed")
        try:
            for f in list(self._requests):
                if not f.done():
                    f.set_exception(gone)
            self._requests.clear()
            self._wake(gone)
            for sub in list(self._asubs):
                sub._wake()
        except RuntimeError:  # futures of a loop already closed
            pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()

    def __repr__(self):
        return super().__repr__().replace("<ipcnet.Node", "<ipcnet.aio.Node", 1)

    # -- calls that take callbacks: coroutine functions welcome

    def subscribe(self, pattern, callback=None, depth=64, *, history=True):
        """Samples of every stream and data resource matching pattern.
        Without callback: an ipcnet.aio.Subscription, ``async for msg in
        sub`` or ``await sub.take(timeout)`` (depth samples queue, the
        oldest dropped).  With callback (a function or a coroutine
        function): called with each Message on the loop; an
        ipcnet.Subscription.  history: as ipcnet.Node.subscribe()."""
        if callback is None:
            sub = Subscription(self, pattern, depth, history=history)
            self._asubs.add(sub)
            return sub
        if not callable(callback):
            raise TypeError("callback must be callable")
        return super().subscribe(pattern, self._wrap(callback), depth, history=history)

    def offer(self, path, fn=None, **kw):
        """ipcnet.Node.offer(); fn may be a coroutine function: the request
        is answered when it returns."""
        def register(f):
            _Node.offer(self, path, self._wrap(f, report=False), **kw)
            return f
        if fn is None:
            return register
        return register(fn)

    def set_event_callback(self, fn):
        """fn(Event), a function or a coroutine function; None: none."""
        super().set_event_callback(None if fn is None else self._wrap(fn))

    # -- coroutines

    async def request(self, path, value=None, timeout=1.0, *, encoding=None):
        """Call a service; its answer (a Message).  Raises as
        ipcnet.Node.request() does.  Cancelling the awaiting task cancels
        the request."""
        fut = self._loop.create_future()
        rid = self._request_async(path, value, encoding, timeout, fut)
        self._requests.add(fut)
        try:
            return await fut
        finally:
            self._requests.discard(fut)
            if fut.cancelled():
                self._request_cancel(rid)

    async def _until(self, cond, timeout, what):
        """cond() once it is true, checked after every dispatch that did work."""
        async def watch():
            while True:
                res = cond()
                if res:
                    return res
                if self.closed:
                    raise ServiceUnavailable("the node was closed while %s" % what)
                fut = self._loop.create_future()
                self._waiters.add(fut)
                await fut
        try:
            return await asyncio.wait_for(watch(), timeout)
        except asyncio.TimeoutError:
            raise Timeout("%s: not within %s s" % (what, timeout)) from None

    async def wait_for(self, pattern, kind=None, timeout=1.0):
        """Until a resource matching pattern (and kind) is known: the list
        of them.  Raises Timeout."""
        return await self._until(lambda: self.find(pattern, kind), timeout,
                                 "waiting for %s" % pattern)

    async def wait_subscribers(self, path, count=1, timeout=1.0):
        """Until count nodes other than this one subscribe to patterns
        matching path.  Raises Timeout."""
        def enough():
            me = self.id
            ids = {s.node_id for s in self.subscriptions()
                   if s.node_id != me and pattern_match(s.pattern, path)}
            return len(ids) >= count
        await self._until(enough, timeout, "waiting for %d subscribers of %s" % (count, path))

    async def _off_loop(self, fn, *args, **kw):
        try:
            return await self._loop.run_in_executor(None, functools.partial(fn, self, *args,
                                                                            **kw))
        finally:
            if not self.closed:
                self._wake()

    async def query(self, path, timeout=1.0):
        """ipcnet.Node.query() (on an executor thread)."""
        return await self._off_loop(_Node.query, path, timeout)

    async def set(self, path, value, encoding=None, expect_version=0, timeout=1.0):
        """ipcnet.Node.set() (on an executor thread): the new version."""
        return await self._off_loop(_Node.set, path, value, encoding, expect_version, timeout)

    async def wait_peers(self, count, timeout=None):
        """ipcnet.Node.wait_peers() (on an executor thread)."""
        return await self._off_loop(_Node.wait_peers, count, timeout)

    async def wait_synced(self, timeout=None):
        """ipcnet.Node.wait_synced() (on an executor thread)."""
        return await self._off_loop(_Node.wait_synced, timeout)


def _deliver(ref, msg):
    sub = ref()
    if sub is not None:
        sub._push(msg)


class Subscription(_Subscription):
    """A subscription of an ipcnet.aio.Node without a callback: ``async for
    msg in sub`` (ends when it is unsubscribed or the node closed), ``await
    sub.take(timeout)``.  Samples queue on the loop, depth of them (the
    oldest dropped, counted in stats().dropped).  ``async with`` (or
    unsubscribe()) ends it; so does garbage collection."""

    def __init__(self, node, pattern, depth=64, *, history=True):
        self._queue = collections.deque()
        self._depth = max(1, int(depth))
        self._dropped = 0
        self._waiters = set()
        sid = node._subscribe(pattern, depth, functools.partial(_deliver, weakref.ref(self)),
                              bool(history))
        super().__init__(node, pattern, sid, None)

    def _push(self, msg):
        if not self._active:
            return
        if len(self._queue) >= self._depth:
            if self._queue.popleft().status == 100:
                self._dropped += 1  # a notice dropped is not a sample lost
        self._queue.append(msg)
        self._wake()

    def _wake(self):
        waiters, self._waiters = self._waiters, set()
        for f in waiters:
            if not f.done():
                f.set_result(None)

    async def take(self, timeout=None):
        """The oldest queued sample (a Message), waiting up to timeout
        seconds (None: forever); None when none came in time, or when the
        subscription or the node ended meanwhile."""
        loop = self._node._loop
        deadline = None if timeout is None else loop.time() + timeout
        while not self._queue:
            if not self._active or self._node.closed:
                return None
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return None
            fut = loop.create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait_for(fut, left)
            except asyncio.TimeoutError:
                return None
            finally:
                self._waiters.discard(fut)
        return self._queue.popleft()

    def __aiter__(self):
        return self

    async def __anext__(self):
        msg = await self.take(None)
        if msg is None:
            raise StopAsyncIteration
        return msg

    def __iter__(self):
        raise TypeError("an ipcnet.aio.Subscription is iterated with 'async for'")

    def __next__(self):
        raise TypeError("an ipcnet.aio.Subscription is iterated with 'async for'")

    def stats(self):
        """The subscription's counters (SubStats); samples waiting here
        count as queued, those dropped here as dropped."""
        s = super().stats()
        here = sum(1 for m in self._queue if m.status == 100)
        return s._replace(delivered=s.delivered - here - self._dropped,
                          dropped=s.dropped + self._dropped,
                          queued=s.queued + len(self._queue))

    def unsubscribe(self):
        """End the subscription: ``async for`` stops, take() returns None."""
        super().unsubscribe()
        self._wake()

    close = unsubscribe

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.unsubscribe()

    def __del__(self):
        if self._active:
            try:
                self.unsubscribe()
            except Exception:  # noqa: BLE001 - at garbage collection
                pass

    def __repr__(self):
        return super().__repr__().replace("<ipcnet.Subscription", "<ipcnet.aio.Subscription")
