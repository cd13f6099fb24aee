// SPDX-License-Identifier: MIT
// controller.cpp — the controller of issue 21's trial in C++, with
// ipcn::Value (ipcnet_value.hpp): the same program as controller.c.
//
// It steers the base toward the best detection: it holds its parameters in
// robot/controller/params ({"threshold": 0.5, "gain": 2}, settable with
// `ipcnet set`), reads robot/detections ({"frame": N, "objects": [{"label":
// "cup", "score": 0.9, "x": 0.4}, ...]}) and publishes robot/base/cmd
// ({"frame": N, "linear": v, "angular": w, "target": "cup" or null}).
// Usage: controller-cpp [COUNT]: stop after COUNT commands (default: never).
#include <ipcnet.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>

static volatile std::sig_atomic_t stop;

int main(int argc, char **argv)
{
    long count = argc > 1 ? std::atol(argv[1]) : -1, sent = 0;
    std::signal(SIGTERM, [](int) { stop = 1; });
    std::signal(SIGINT, [](int) { stop = 1; });
    try {
        ipcn::Node node("controller");
        ipcn::Value params = {{"threshold", 0.5}, {"gain", 2.0}};
        node.announce("robot/controller/params", ipcn::Kind::Data, "cbor");
        node.on_set("robot/controller/params", [&](const ipcn::MessageView &m) {
            try {
                ipcn::Value v = ipcn::Value::decode(m.data());
                double th = v.at("threshold").get<double>(), g = v.at("gain").get<double>();
                if (th < 0 || th > 1)
                    return IPCN_BAD_REQUEST;
                params = {{"threshold", th}, {"gain", g}};
                return IPCN_OK;
            } catch (const ipcn::Error &) { // no such key, not a number...
                return IPCN_BAD_REQUEST;
            }
        });
        node.publish("robot/controller/params", params.encode());
        node.announce("robot/base/cmd", ipcn::Kind::Stream, "cbor");
        ipcn::Subscription sub = node.subscribe("robot/detections", [&](const ipcn::MessageView &m) {
            if (m.status() != IPCN_OK)
                return;
            ipcn::Value d = ipcn::Value::decode(m.data());
            double best = params["threshold"].as_double(), x = 0;
            ipcn::Value target; // null
            for (const ipcn::Value &o : d.at("objects").elements())
                if (o.value("score", -1.0) >= best && o.contains("x") && o.contains("label"))
                    best = o["score"].as_double(), x = o["x"].as_double(), target = o["label"];
            ipcn::Value cmd = {{"frame", d.at("frame").as_uint()},
                               {"linear", target.is_null() ? 0.0 : 0.5},
                               {"angular", -params["gain"].as_double() * x},
                               {"target", target}};
            node.publish("robot/base/cmd", cmd.encode());
            if (++sent == count)
                stop = 1;
        }, 8);
        while (!stop)
            node.dispatch(100);
        return 0;
    } catch (const ipcn::Error &e) { // e.g. "207 Conflict: open node controller"
        std::fprintf(stderr, "controller: %s\n", e.what());
        return 1;
    }
}
