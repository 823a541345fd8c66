// A tool handler as the README shows it: it reads the caller's session with
// get_session(), with no payer parameter. main() plays the x402 hook, runs the
// handler for a paid and an unpaid call, and checks the answers. The same file
// is built against the installed package by the packaging test.
#include <x402/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

// [readme-snippet-begin]
#include <x402/session.hpp>
namespace xs = x402::session;

// A paid tool: remembers one value per caller and returns the previous one.
xs::awaitable<std::string> remember_color(std::string color) {
    auto session = xs::get_session();  // the verified payer's session, or none
    if (!session) co_return "no authenticated signer";

    std::optional<std::string> previous = co_await session->get("color");
    co_await session->set("color", color);  // default TTL: 1 h, sliding
    co_return "hello " + *xs::get_payer() + ", your color was " + previous.value_or("unset");
}

// The x402 hook runs it after verifying the payment:
//   xs::SessionPlugin sessions;  // InMemoryStore by default
//   auto payer = xs::VerifiedPayer::assume_verified(verified.payer);
//   auto reply = co_await sessions.run(payer, [] { return remember_color("blue"); });
// [readme-snippet-end]

namespace {

xs::awaitable<bool> scenario(xs::SessionPlugin& sessions) {
    const auto payer = xs::VerifiedPayer::assume_verified("0xA11CE0000000000000000000000000000000A11C");
    auto paint_blue = [] { return remember_color("blue"); };
    auto paint_red = [] { return remember_color("red"); };

    const std::string first = co_await sessions.run(payer, paint_blue);
    const std::string second = co_await sessions.run(payer, paint_red);
    const std::string unpaid = co_await sessions.run_without_payer(paint_red);
    std::cout << first << '\n' << second << '\n' << unpaid << '\n';

    const std::string who = "hello 0xA11CE0000000000000000000000000000000A11C, your color was ";
    co_return first == who + "unset" && second == who + "blue" && unpaid == "no authenticated signer";
}

}  // namespace

int main() {
    xs::SessionPlugin sessions;
    boost::asio::io_context io;
    bool passed = false;
    std::exception_ptr error;
    boost::asio::co_spawn(io, scenario(sessions), [&](std::exception_ptr e, bool ok) {
        error = e;
        passed = ok;
    });
    io.run();
    if (error) {
        std::cerr << "tool_handler: the scenario threw\n";
        return EXIT_FAILURE;
    }
    std::cout << (passed ? "tool_handler: ok\n" : "tool_handler: unexpected answers\n");
    return passed ? EXIT_SUCCESS : EXIT_FAILURE;
}
