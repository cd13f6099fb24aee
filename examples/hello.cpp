// SPDX-License-Identifier: MIT
// hello.cpp — a service and its client with the C++ binding (ipcnet.hpp).
// Two nodes in one program to keep it short; each could be its own process.
#include <ipcnet.hpp>

#include <cstdio>
#include <string>

int main()
{
    try {
        // The service: greets whoever asks; answers on the node's own thread.
        ipcn::Node server("hello-server");
        server.offer("hello/greet", "text/plain",
                     [](const ipcn::MessageView &req, ipcn::Reply &reply) {
                         reply.set("hello, " + std::string(req.text()) + "!", "text/plain");
                         return IPCN_OK;
                     });
        server.start_thread();

        // The client: finds the network, then calls the service.
        ipcn::Node client("hello-client");
        client.wait_synced(1000);
        ipcn::Message answer = client.request("hello/greet", "world", "text/plain", 500);
        std::printf("%s (from %s)\n", std::string(answer.text()).c_str(),
                    std::string(answer.src_name()).c_str());

        // Failure is a status: thrown as ipcn::Error, or returned by try_*().
        auto none = client.try_request("hello/nobody", "", "", 500);
        std::printf("hello/nobody: %d %s\n", none.status(), none.status_text());
        return 0;
    } catch (const ipcn::Error &e) { // e.g. "207 Conflict: open node hello-server"
        std::fprintf(stderr, "hello: %s\n", e.what());
        return 1;
    }
}
