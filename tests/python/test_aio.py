# SPDX-License-Identifier: MIT
"""ipcnet.aio: nodes driven by an asyncio loop (asyncio.run), with no thread
of their own: ``async for`` over a subscription, ``await node.request()``,
coroutine service handlers, the waits, and close() ending them."""
import asyncio
import os
import time

import pytest

import ipcnet
import ipcnet.aio

WAIT = 10.0


def run(coro):
    """asyncio.run, bounded: a hang fails the test instead of stalling it."""
    async def bounded():
        return await asyncio.wait_for(coro, 60)
    return asyncio.run(bounded())


def threads():
    return len(os.listdir("/proc/self/task"))


def test_pubsub_and_requests_on_the_loop_with_no_thread(net):
    async def main():
        before = threads()
        async with ipcnet.aio.Node("aio.a") as a, ipcnet.aio.Node("aio.b") as b:
            @a.offer("svc/add")
            async def add(req):
                await asyncio.sleep(0)  # the loop runs others meanwhile
                return req.value["a"] + req.value["b"]

            @a.offer("svc/notfound")
            def notfound(req):
                raise ipcnet.NotFound("no such thing")

            a.announce("s/x")
            sub = b.subscribe("s/x")
            assert isinstance(sub, ipcnet.aio.Subscription)
            found = await b.wait_for("svc/*", "service", WAIT)
            assert {r.path for r in found} >= {"svc/add"}
            await a.wait_subscribers("s/x", 1, WAIT)
            for i in range(3):
                a.publish("s/x", {"i": i})
            got = []
            async for msg in sub:
                got.append(msg.value["i"])
                if len(got) == 3:
                    break
            assert got == [0, 1, 2]

            assert (await b.request("svc/add", {"a": 1, "b": 2}, WAIT)).value == 3
            answers = await asyncio.gather(*(b.request("svc/add", {"a": i, "b": i}, WAIT)
                                             for i in range(20)))
            assert [m.value for m in answers] == [2 * i for i in range(20)]
            with pytest.raises(ipcnet.NotFound):
                await b.request("svc/notfound", None, WAIT)
            with pytest.raises(ipcnet.NotFound):
                await b.request("svc/none", None, WAIT)
            assert threads() == before, "an ipcnet.aio.Node started a thread"
            assert a.timeout() is None or a.timeout() >= 0
            with pytest.raises(RuntimeError):
                a.dispatch(0)
            with pytest.raises(RuntimeError):
                a.start()
        assert a.closed and b.closed
    run(main())


def test_timeout_cancel_and_close_end_the_waits(net):
    async def main():
        async with ipcnet.aio.Node("aio.p") as p:
            asked = asyncio.Event()
            never = asyncio.Event()

            @p.offer("svc/stuck")
            async def stuck(req):
                asked.set()
                await never.wait()  # answers only when cancelled by the close

            b = ipcnet.aio.Node("aio.b")
            await b.wait_for("svc/stuck", timeout=WAIT)
            with pytest.raises(ipcnet.Timeout):
                await b.request("svc/stuck", None, 0.2)

            # Cancelling the awaiting task cancels the request.
            asked.clear()
            task = asyncio.ensure_future(b.request("svc/stuck", None, WAIT))
            await asyncio.wait_for(asked.wait(), WAIT)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not b._requests

            # close() ends what waits on the node: a request with no timeout,
            # an iteration, a take, a wait.
            sub = b.subscribe("s/never")

            async def collect():
                return [m async for m in sub]
            asked.clear()
            waiting = [asyncio.ensure_future(c) for c in (
                b.request("svc/stuck", None, None), collect(), sub.take(None),
                b.wait_for("never/**", timeout=None))]
            await asyncio.wait_for(asked.wait(), WAIT)
            await asyncio.sleep(0)
            assert not any(t.done() for t in waiting)
            b.close()
            req, items, taken, wait = await asyncio.gather(*waiting, return_exceptions=True)
            assert isinstance(req, ipcnet.ServiceUnavailable), req
            assert items == [] and taken is None
            assert isinstance(wait, ipcnet.ServiceUnavailable), wait
            with pytest.raises(ValueError):  # closed
                await b.request("svc/stuck", None, 0.1)
            never.set()
    run(main())


def test_with_a_threaded_node_take_depth_query_set(nodes):
    pub = nodes("thr.pub")  # a node with its own thread, in the same process
    pub.announce("d/gain", "data")
    pub.publish("d/gain", 0.5)
    pub.announce("s/y")

    async def main():
        async with ipcnet.aio.Node("aio.s") as s:
            sub = s.subscribe("s/y", depth=2)
            assert await sub.take(0.05) is None  # nothing came in time
            await s.wait_for("d/gain", "data", WAIT)
            assert (await s.query("d/gain", WAIT)).value == 0.5
            assert await s.set("d/gain", 0.75, timeout=WAIT) > 0
            assert (await s.query("d/gain", WAIT)).value == 0.75

            # Five samples into a queue of two: the oldest dropped, counted.
            await asyncio.get_running_loop().run_in_executor(
                None, pub.wait_subscribers, "s/y", 1, WAIT)
            for i in range(5):
                pub.publish("s/y", i)
            deadline = time.monotonic() + WAIT
            while sub.stats().received < 5 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            st = sub.stats()
            assert (st.received, st.dropped, st.queued, st.delivered) == (5, 3, 2, 0), st
            assert [(await sub.take(WAIT)).value for _ in range(2)] == [3, 4]
            st = sub.stats()
            assert (st.delivered, st.queued) == (2, 0), st

            # A callback may be a coroutine function; it runs on the loop.
            seen = asyncio.Queue()

            async def on_sample(msg):
                await seen.put(msg.value)
            s.subscribe("s/y", on_sample)
            await asyncio.get_running_loop().run_in_executor(
                None, pub.wait_subscribers, "s/y", 1, WAIT)
            pub.publish("s/y", 99)
            assert await asyncio.wait_for(seen.get(), WAIT) == 99
    run(main())


def test_idle_loop_answers_heartbeats_at_no_cpu(nodes):
    """The loop sleeps on the node's fd: nothing spins, and the node still
    answers its peer's heartbeats (it would be dropped after 0.9 s)."""
    other = nodes("thr.other")
    other.announce("x/here")
    lost = []
    other.set_event_callback(lambda ev: ev.type == "peer_down" and lost.append(ev.peer))

    async def main():
        async with ipcnet.aio.Node("aio.idle") as n:
            await n.wait_for("x/here", timeout=WAIT)
            c0, t0 = time.thread_time(), time.monotonic()
            await asyncio.sleep(1.2)
            cpu, wall = time.thread_time() - c0, time.monotonic() - t0
            assert cpu < 0.05 * wall, "the idle loop used %.3f s of CPU in %.2f s" % (cpu, wall)
            assert [p.name for p in n.peers()] == ["thr.other"]
            assert "aio.idle" in [p.name for p in other.peers()] and not lost, lost
    run(main())


def test_made_outside_a_loop(net):
    with pytest.raises(RuntimeError):
        ipcnet.aio.Node("aio.none")
