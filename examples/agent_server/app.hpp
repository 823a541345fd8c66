// The agent server's command line and main loop (examples/agent_server.cpp).
// The x402 gate (include/x402/mcp/x402_gate.hpp) verifies payments with the
// verifier chosen by --verifier: offline (LocalVerifier, development and test
// networks only) or a facilitator URL (FacilitatorVerifier). The store comes
// from --store (x402::redis::make_store when built with the Redis store).
#pragma once

#include "agent_server/tools.hpp"

#include <x402/mcp.hpp>
#include <x402/mcp/x402_gate.hpp>
#include <x402/payment/hook.hpp>
#include <x402/payment/networks.hpp>
#include <x402/session.hpp>

#if X402_AGENT_SERVER_LOCAL_VERIFIER
#include <x402/payment/local_verifier.hpp>
#endif
#if X402_AGENT_SERVER_FACILITATOR
#include <x402/payment/facilitator_verifier.hpp>
#endif
#if X402_AGENT_SERVER_REDIS
#include <x402/payment/redis_replay_guard.hpp>
#include <x402/redis/eviction.hpp>
#include <x402/redis/store_url.hpp>
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace agent_server {

struct Options {
    /// Keep serving until SIGINT/SIGTERM; without it, print a short in-process demo and exit.
    bool serve = false;
    /// ADDRESS:PORT to listen on ([v6]:PORT for IPv6); port 0 picks a free one.
    std::string address = "127.0.0.1";
    unsigned short port = 8402;
    /// Session store: memory:// (default), redis://..., redis+cluster://...
    std::string store = "memory://";
    /// The in-memory store's bounds, so that one payer cannot evict the
    /// others: at most 1,000 entries of one payer, 256 MiB in all, and values
    /// of at most 16,384 characters (put-content refuses longer ones before
    /// payment), so one payer holds at most about a quarter of the budget.
    std::int64_t max_entries_per_payer = 1'000;
    std::int64_t max_bytes = 256 * 1024 * 1024;
    std::size_t max_value_length = 16'384;
    /// The most one get-content page (one list call) holds, on either store:
    /// 1000 entries and 256 KiB of keys and values. The answer carries the page
    /// twice (text and structuredContent) with JSON escapes, up to about 13
    /// times these bytes for values of control characters, so about 3.3 MiB.
    x402::session::PageLimits page_limits{.max_entries = 1000, .max_bytes = 256 * 1024};
    /// Most connections at once (beyond: 503); 0: three quarters of the descriptor limit.
    std::size_t max_connections = 0;
    /// The connection deadlines (x402::http::ServerOptions), in milliseconds.
    std::chrono::milliseconds idle_timeout{15'000};
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds write_timeout{60'000};
    /// Where replay claims live: memory:// or a Redis; empty: in the session
    /// store's Redis when it is one, else in this process.
    std::string replay_store;
    /// Start on a claims Redis that refuses CONFIG GET: the operator states it never evicts.
    bool assume_noeviction = false;
    /// Payment identifiers on paid tools and routes (idempotent retries; the
    /// answers go in the session store's ledger): optional, required or off.
    x402::payment::PaymentIdentifierUse payment_identifiers = x402::payment::PaymentIdentifierUse::optional;
    /// Payment verifier: "none" (default: paid calls are refused with their
    /// price), "offline" (LocalVerifier) or a facilitator URL.
    std::string verifier = "none";
    /// Allow --verifier offline on a network that is not a known test network.
    bool allow_offline_mainnet = false;
    Pricing pricing;
    /// DNS-rebinding protection (x402::http::ServerOptions): the Host and
    /// Origin values served; empty: the loopback defaults on a loopback address.
    std::vector<std::string> allowed_hosts;
    std::vector<std::string> allowed_origins;
    /// io threads in --serve mode.
    unsigned threads = 2;
    /// Serve GET /metrics (Prometheus text format).
    bool metrics = false;
};

inline const char* usage =
    "usage: agent-server [--serve] [--listen ADDRESS:PORT] [--verifier offline|URL|none] [--store URL]\n"
    "                    [--replay-store URL] [--assume-noeviction] [--payment-identifiers optional|required|off]\n"
    "                    [--max-entries-per-payer N] [--max-bytes N] [--max-value-length N] [--max-connections N]\n"
    "                    [--max-page-entries N] [--max-page-bytes N] [--idle-timeout MS] [--header-timeout MS]\n"
    "                    [--body-timeout MS] [--write-timeout MS]\n"
    "                    [--pay-to ADDRESS] [--network NAME] [--asset ADDRESS --asset-name NAME --asset-version V]\n"
    "                    [--allowed-host HOST[:PORT]]... [--allowed-origin ORIGIN]...\n"
    "                    [--allow-offline-mainnet] [--threads N] [--metrics]\n"
    "  --listen   default 127.0.0.1:8402 (port 0: any free port; the chosen one is printed)\n"
    "  --verifier how paid calls are verified:\n"
    "               none     (default) every paid call is refused with its payment requirements\n"
    "               offline  LocalVerifier: checks the EIP-3009 signature, amount, recipient and\n"
    "                        validity window offline, but sees no balance and MOVES NO FUNDS (its\n"
    "                        'settlement' is a no-op). Development and test networks only: refused\n"
    "                        on any other network (e.g. eip155:8453, Base mainnet) unless\n"
    "                        --allow-offline-mainnet is given as well\n"
    "               URL      an x402 facilitator (http(s)://HOST[:PORT][/PATH]), e.g. https://x402.org/facilitator\n"
    "  --store    memory:// (default), redis://[user:password@]HOST[:PORT][/DB] or\n"
    "             redis+cluster://HOST:PORT[,HOST:PORT...]\n"
    "  --replay-store  where the replay claims of accepted payments live (a URL as for --store;\n"
    "             default: the --store Redis, or this process). A claims Redis must never evict\n"
    "             (maxmemory 0 or maxmemory-policy noeviction on every master): the server refuses\n"
    "             to start otherwise, and when CONFIG GET is refused, unless --assume-noeviction\n"
    "  --max-entries-per-payer N  in-memory store: most entries of one payer (default 1000)\n"
    "  --max-bytes N  in-memory store: payer + key + value bytes in all (default 268435456)\n"
    "  --max-value-length N  put-content: longest value in characters (default 16384)\n"
    "  --max-page-entries N, --max-page-bytes N  one get-content page: most entries (default 1000)\n"
    "             and key + value bytes (default 262144; a larger single value comes alone)\n"
    "  --max-connections N  most connections at once, beyond them 503 (default: 3/4 of the fd limit)\n"
    "  --idle-timeout MS, --header-timeout MS, --body-timeout MS, --write-timeout MS  close a connection\n"
    "             that waits this long for a request to begin (default 15000), sends its headers\n"
    "             (10000) or its body (30000), or does not read its answer (60000)\n"
    "  --allowed-host HOST[:PORT]  a Host this server answers to, others get 421 (repeatable;\n"
    "             default on a loopback --listen: localhost, 127.0.0.1 and [::1], bare or with the\n"
    "             port; on another address, any Host). Protects against DNS rebinding\n"
    "  --allowed-origin ORIGIN  e.g. http://localhost:6274: a browser Origin allowed to call any\n"
    "             route, others get 403 (repeatable; default on loopback: every loopback Origin;\n"
    "             on another address, none). Requests without Origin are always served\n"
    "  --payment-identifiers  optional (default), required or off: a retry carrying the payment's\n"
    "             payment-identifier gets the first answer; a --store Redis must then never evict\n"
    "  --pay-to   recipient of payments (default 0x209693Bc6afc0C5328bA36FaF03C514EF312287C)\n"
    "  --network  eip155:84532 (Base Sepolia, default) or eip155:8453 (Base); others need --asset\n"
    "  --metrics  serve the server's counters on GET /metrics (Prometheus text format)\n"
    "  --serve    keep serving MCP on http://ADDRESS:PORT/mcp until SIGINT/SIGTERM;\n"
    "             without it: a short demo of the MCP answers, then exit\n";

/// True for the EVM test networks (and local dev chains) where offline
/// verification is acceptable.
inline bool is_test_network(const std::string& network) {
    static constexpr std::array<std::uint64_t, 12> test_chains{
        84532,      // Base Sepolia
        11155111,   // Ethereum Sepolia
        43113,      // Avalanche Fuji
        80002,      // Polygon Amoy
        1328,       // Sei testnet
        11124,      // Abstract testnet
        2201,       // Stable testnet
        324705682,  // SKALE Base Sepolia
        31337,      // Hardhat / Anvil
        1337,       // local dev chains
        421614,     // Arbitrum Sepolia
        11155420,   // OP Sepolia
    };
    const std::optional<std::uint64_t> id = x402::payment::evm_chain_id(network);
    if (!id) return false;
    for (std::uint64_t test : test_chains)
        if (test == *id) return true;
    return false;
}

inline bool is_redis_url(const std::string& url) {
    return url.rfind("redis://", 0) == 0 || url.rfind("redis+cluster://", 0) == 0;
}

/// Parses argv; nullopt (after printing why) on a usage error.
inline std::optional<Options> parse(int argc, char** argv) {
    Options options;
    std::optional<std::string> asset;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto fail = [](const std::string& why) -> std::optional<Options> {
        std::cerr << "agent-server: " << why << '\n' << usage;
        return std::nullopt;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (flag == "--serve") {
            options.serve = true;
            continue;
        }
        if (flag == "--assume-noeviction") {
            options.assume_noeviction = true;
            continue;
        }
        if (flag == "--allow-offline-mainnet") {
            options.allow_offline_mainnet = true;
            continue;
        }
        if (flag == "--metrics") {
            options.metrics = true;
            continue;
        }
        if (flag == "--help" || flag == "-h") {
            std::cout << usage;
            std::exit(0);
        }
        if (i + 1 >= args.size()) return fail("missing value after " + std::string(flag));
        const std::string value(args[++i]);
        if (flag == "--listen") {
            const std::size_t colon = value.rfind(':');
            if (colon == std::string::npos || colon == 0) return fail("--listen needs ADDRESS:PORT");
            std::string host = value.substr(0, colon);
            if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
            try {
                std::size_t used = 0;
                const unsigned long port = std::stoul(value.substr(colon + 1), &used);
                if (used != value.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
                options.port = static_cast<unsigned short>(port);
            } catch (const std::exception&) {
                return fail("bad port in --listen " + value);
            }
            options.address = host;
        } else if (flag == "--max-entries-per-payer" || flag == "--max-bytes" || flag == "--max-value-length" ||
                   flag == "--max-connections" || flag == "--max-page-entries" || flag == "--max-page-bytes" ||
                   flag == "--idle-timeout" || flag == "--header-timeout" || flag == "--body-timeout" ||
                   flag == "--write-timeout") {
            std::int64_t number = 0;
            const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
            if (error != std::errc() || end != value.data() + value.size() || number < 1)
                return fail(std::string(flag) + " needs a whole number >= 1, not " + value);
            if (flag == "--max-entries-per-payer") options.max_entries_per_payer = number;
            else if (flag == "--max-bytes") options.max_bytes = number;
            else if (flag == "--max-connections") options.max_connections = static_cast<std::size_t>(number);
            else if (flag == "--max-page-entries") options.page_limits.max_entries = static_cast<std::size_t>(number);
            else if (flag == "--max-page-bytes") options.page_limits.max_bytes = static_cast<std::size_t>(number);
            else if (flag == "--idle-timeout") options.idle_timeout = std::chrono::milliseconds(number);
            else if (flag == "--header-timeout") options.header_timeout = std::chrono::milliseconds(number);
            else if (flag == "--body-timeout") options.body_timeout = std::chrono::milliseconds(number);
            else if (flag == "--write-timeout") options.write_timeout = std::chrono::milliseconds(number);
            else options.max_value_length = static_cast<std::size_t>(number);
        } else if (flag == "--payment-identifiers") {
            if (value == "optional") options.payment_identifiers = x402::payment::PaymentIdentifierUse::optional;
            else if (value == "required") options.payment_identifiers = x402::payment::PaymentIdentifierUse::required;
            else if (value == "off") options.payment_identifiers = x402::payment::PaymentIdentifierUse::off;
            else return fail("--payment-identifiers must be optional, required or off, not " + value);
        } else if (flag == "--allowed-host" || flag == "--allowed-origin") {
            // An empty entry would match only a request without the header: a typo, not a policy.
            if (value.empty()) return fail(std::string(flag) + " needs a value");
            (flag == "--allowed-host" ? options.allowed_hosts : options.allowed_origins).push_back(value);
        } else if (flag == "--replay-store") {
            options.replay_store = value;
        } else if (flag == "--store") {
            options.store = value;
        } else if (flag == "--verifier") {
            options.verifier = value;
        } else if (flag == "--pay-to") {
            options.pricing.pay_to = value;
        } else if (flag == "--network") {
            options.pricing.network = value;
        } else if (flag == "--asset") {
            asset = value;
        } else if (flag == "--asset-name") {
            options.pricing.asset_name = value;
        } else if (flag == "--asset-version") {
            options.pricing.asset_version = value;
        } else if (flag == "--threads") {
            try {
                options.threads = static_cast<unsigned>(std::stoul(value));
            } catch (const std::exception&) {
                return fail("bad --threads " + value);
            }
            if (options.threads == 0 || options.threads > 64) return fail("--threads must be 1..64");
        } else {
            return fail("unknown option " + std::string(flag));
        }
    }
    if (asset) {
        options.pricing.asset = *asset;
    } else if (options.pricing.network == "eip155:8453") {
        options.pricing.asset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";  // USDC on Base
        options.pricing.asset_name = "USD Coin";
    } else if (options.pricing.network != "eip155:84532") {
        return fail("no default USDC asset for network " + options.pricing.network + ": pass --asset");
    }
    if (!options.replay_store.empty() && options.replay_store != "memory://" && options.replay_store != "memory" &&
        !is_redis_url(options.replay_store))
        return fail("--replay-store must be memory://, redis://... or redis+cluster://..., not " + options.replay_store);
    if (options.verifier == "offline" && !is_test_network(options.pricing.network) && !options.allow_offline_mainnet)
        return fail("--verifier offline moves no funds and sees no balances: it is for development and test "
                    "networks only, and " + options.pricing.network +
                    " is not a known test network (pass --allow-offline-mainnet to override)");
    return options;
}

/// The session store of `options`, or nullopt (after printing why). The
/// in-memory one is bounded per payer; a Redis is bounded by its maxmemory.
inline std::optional<x402::session::AnyStore> make_store(boost::asio::any_io_executor executor, const Options& options) {
    const std::string& url = options.store;
    if (url == "memory://" || url == "memory") {
        x402::session::InMemoryStoreOptions limits;
        limits.max_entries_per_payer = options.max_entries_per_payer;
        limits.max_bytes = options.max_bytes;
        limits.page_limits = options.page_limits;
        try {
            return x402::session::AnyStore::make<x402::session::InMemoryStore>(std::move(limits));
        } catch (const std::exception& error) {
            std::cerr << "agent-server: " << error.what() << '\n';
            return std::nullopt;
        }
    }
#if X402_AGENT_SERVER_REDIS
    try {
        x402::redis::RedisStoreOptions redis_options;
        redis_options.page_limits = options.page_limits;
        return x402::redis::make_store(std::move(executor), url, std::move(redis_options));
    } catch (const std::exception& error) {
        std::cerr << "agent-server: --store " << url << ": " << error.what() << '\n';
        return std::nullopt;
    }
#else
    (void)executor;
    std::cerr << "agent-server: --store " << url
              << ": this build has no Redis store (configure with X402_SESSION_REDIS=ON); use memory://\n";
    return std::nullopt;
#endif
}

/// The gate of a server without a payment verifier: every paid call (tool
/// or route) is refused with its payment requirements (so clients see the
/// price), and no handler of a paid tool or route ever runs (--verifier none).
inline x402::mcp::PaymentGate refusing_gate() {
    return [](x402::mcp::GateRequest request) -> x402::mcp::awaitable<x402::mcp::GateDecision> {
        json required = request.price->as_json();
        required["error"] = request.payment.empty() ? "payment_required" : "this server has no payment verifier configured";
        std::optional<x402::payment::HttpHeader> header;
        if (auto parsed = x402::payment::parse_payment_required(required))
            header = x402::payment::HttpHeader{"PAYMENT-REQUIRED", x402::payment::encode_payment_required_header(*parsed)};
        co_return x402::mcp::GateDecision::refuse(std::move(required), std::move(header));
    };
}

/// The gates of a server: MCP tools and plain HTTP routes, one gate type,
/// sharing one hook (one replay guard).
struct Gates {
    x402::mcp::PaymentGate mcp;
    x402::mcp::PaymentGate http;
    /// The hook's counters (null without a verifier); the gates keep the hook alive.
    const x402::payment::PaymentMetrics* metrics = nullptr;
};

inline x402::mcp::Reply demo_post(x402::mcp::McpEndpoint& endpoint, const json& message,
                                  std::optional<std::string> session) {
    boost::asio::io_context io;
    x402::mcp::Reply reply;
    std::exception_ptr error;
    boost::asio::co_spawn(io, endpoint.post(message.dump(), std::move(session), std::nullopt),
                          [&](std::exception_ptr e, x402::mcp::Reply r) {
                              error = e;
                              reply = std::move(r);
                          });
    io.run();
    if (error) std::rethrow_exception(error);
    return reply;
}

/// The Redis that holds the replay claims (--replay-store, else the session
/// store's Redis); empty when they live in this process.
inline std::string replay_store_url(const Options& options) {
    const std::string& url = options.replay_store.empty() ? options.store : options.replay_store;
    return is_redis_url(url) ? url : std::string();
}

#if X402_AGENT_SERVER_REDIS
/// Runs `check(client, when_hidden)`, an eviction check of the Redis at
/// `url`, on a client and io_context of its own: it runs before serving, and
/// the server's io_context is not running yet. False after printing why.
template <class Check>
bool redis_never_evicts(const std::string& url, bool assume_noeviction, std::string_view what, std::string_view remedy,
                        Check check) {
    boost::asio::io_context io;
    std::exception_ptr error;
    bool done = false;
    try {
        auto client = std::make_shared<x402::redis::Client>(io.get_executor(), x402::redis::parse_url(url));
        const auto when_hidden = assume_noeviction ? x402::redis::WhenConfigHidden::operator_guarantees_noeviction
                                                   : x402::redis::WhenConfigHidden::refuse;
        boost::asio::co_spawn(io, check(client, when_hidden), [&](std::exception_ptr e) {
            error = e;
            done = true;
        });
        while (!done && io.run_one() != 0) {
        }
        client->shutdown();
    } catch (...) {
        error = std::current_exception();
    }
    io.poll();
    if (!error) return true;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& refused) {
        std::cerr << "agent-server: " << what << " at " << url << ": " << refused.what() << "\nagent-server: "
                  << remedy << "; --assume-noeviction accepts one that refuses CONFIG GET\n";
    }
    return false;
}

/// Whether the claims Redis at `url` never evicts (RedisReplayGuard::
/// require_durable): an evicted claim would let the same payment run its
/// handler again.
inline boost::asio::awaitable<void> claims_never_evicted(std::shared_ptr<x402::redis::Client> client,
                                                         x402::redis::WhenConfigHidden hidden) {
    const x402::payment::RedisReplayGuard guard(std::move(client));  // lives until the check is done
    co_await guard.require_durable(hidden);
}
inline bool replay_store_never_evicts(const std::string& url, bool assume_noeviction) {
    return redis_never_evicts(url, assume_noeviction, "replay claims",
                              "--replay-store URL gives the claims a Redis of their own", claims_never_evicted);
}

/// Whether the session store's Redis at `url` never evicts, checked when
/// payment identifiers keep their answers in its ledger: an evicted answer
/// would let a retry run the handler again.
inline bool session_ledger_never_evicts(const std::string& url, bool assume_noeviction) {
    return redis_never_evicts(
        url, assume_noeviction, "the session ledger", "use a store that never evicts, or --payment-identifiers off",
        [](std::shared_ptr<x402::redis::Client> client, x402::redis::WhenConfigHidden hidden) {
            // require_no_eviction takes its arguments by value: nothing here dangles.
            return x402::redis::require_no_eviction(std::move(client), "the session ledger", hidden);
        });
}
#endif

/// Both gates over one hook, so MCP and HTTP payments share one replay guard:
/// in Redis when the sessions are, or --replay-store names one (every
/// instance then refuses a replay), else in this process. Nullopt (after
/// printing why) when the claims Redis may evict claims.
template <class Verifier>
std::optional<Gates> gates_over(const Options& options, const x402::session::SessionPlugin& sessions,
                                boost::asio::any_io_executor executor, Verifier verifier) {
    namespace xp = x402::payment;
    // Paid writes are committed in one atomic apply once the payment settles
    // (both stores have one); a user-provided store without apply would
    // commit them one by one, and says so.
    xp::PaymentHookOptions hook_options;
    if (!sessions.store().has_apply()) {
        std::cerr << "agent-server: this store has no atomic apply: a paid call's session writes are committed "
                     "one by one after settlement\n";
        hook_options.commit = xp::CommitMode::sequential;
    }
    // Payment identifiers record each settled answer in the store's ledger.
    hook_options.payment_identifier = options.payment_identifiers;
    if (hook_options.payment_identifier != xp::PaymentIdentifierUse::off && !sessions.store().has_ledger()) {
        std::cerr << "agent-server: this store has no ledger: payment identifiers are off\n";
        hook_options.payment_identifier = xp::PaymentIdentifierUse::off;
    }
    const std::string claims_url = replay_store_url(options);
#if X402_AGENT_SERVER_REDIS
    if (!claims_url.empty() && !replay_store_never_evicts(claims_url, options.assume_noeviction)) return std::nullopt;
    if (hook_options.payment_identifier != xp::PaymentIdentifierUse::off && is_redis_url(options.store) &&
        !session_ledger_never_evicts(options.store, options.assume_noeviction))
        return std::nullopt;
    if (!claims_url.empty()) {
        xp::RedisReplayGuard guard(executor, claims_url);
        auto hook = std::make_shared<xp::PaymentHook<Verifier, xp::RedisReplayGuard>>(sessions, std::move(verifier),
                                                                                     std::move(guard), hook_options);
        x402::mcp::PaymentGate gate = x402::mcp::make_x402_gate(hook);
        return Gates{gate, gate, &hook->metrics()};
    }
#else
    (void)executor;
    if (!claims_url.empty()) {
        std::cerr << "agent-server: --replay-store " << claims_url
                  << ": this build has no Redis (configure with X402_SESSION_REDIS=ON)\n";
        return std::nullopt;
    }
#endif
    if (is_redis_url(options.store)) {
        std::cerr << "agent-server: replay claims are kept in this process: other instances sharing the store "
                     "do not see them\n";
    }
    auto hook = std::make_shared<xp::PaymentHook<Verifier>>(sessions, std::move(verifier), xp::InMemoryReplayGuard(),
                                                            hook_options);
    x402::mcp::PaymentGate gate = x402::mcp::make_x402_gate(hook);
    return Gates{gate, gate, &hook->metrics()};
}

/// The gates for `options.verifier`, or nullopt (after printing why).
inline std::optional<Gates> make_gates(const Options& options, const x402::session::SessionPlugin& sessions,
                                        boost::asio::any_io_executor executor) {
    namespace xp = x402::payment;
    if (options.verifier == "none") {
        std::cerr << "agent-server: no --verifier: every paid call is refused with its payment requirements\n";
        return Gates{refusing_gate(), refusing_gate()};
    }
    if (options.verifier == "offline") {
#if X402_AGENT_SERVER_LOCAL_VERIFIER
        std::cerr << "agent-server: offline verification on " << options.pricing.network
                  << ": signatures are checked, NO FUNDS MOVE (development/test networks only)\n";
        return gates_over(options, sessions, executor, xp::LocalVerifier{});
#else
        std::cerr << "agent-server: --verifier offline: this build has no LocalVerifier "
                     "(configure with X402_SESSION_WITH_LOCAL_VERIFIER=ON)\n";
        return std::nullopt;
#endif
    }
    if (options.verifier.rfind("http://", 0) == 0 || options.verifier.rfind("https://", 0) == 0) {
#if X402_AGENT_SERVER_FACILITATOR
        try {
            xp::FacilitatorVerifier verifier(executor, options.verifier);
            std::cerr << "agent-server: payments verified and settled by the facilitator " << verifier.url() << '\n';
            return gates_over(options, sessions, executor, std::move(verifier));
        } catch (const std::exception& error) {
            std::cerr << "agent-server: --verifier " << options.verifier << ": " << error.what() << '\n';
            return std::nullopt;
        }
#else
        (void)executor;
        std::cerr << "agent-server: --verifier URL: the facilitator verifier is not available in this build yet "
                     "(configure with X402_SESSION_HTTP_TLS=ON); use --verifier offline on a test network\n";
        return std::nullopt;
#endif
    }
    std::cerr << "agent-server: unknown --verifier " << options.verifier << " (offline, none or an http(s):// URL)\n";
    return std::nullopt;
}

/// Without --serve: the MCP answers of a short session, straight through the
/// endpoint (no sockets), to show what a client sees.
inline int demo(x402::mcp::McpEndpoint& endpoint) {
    auto show = [](std::string_view what, const json& value) { std::cout << what << ": " << value.dump() << '\n'; };
    const json init = {{"jsonrpc", "2.0"},
                       {"id", 1},
                       {"method", "initialize"},
                       {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()},
                                   {"clientInfo", {{"name", "demo"}, {"version", "1"}}}}}};
    const x402::mcp::Reply opened = demo_post(endpoint, init, std::nullopt);
    if (opened.status != 200 || !opened.session_id) return EXIT_FAILURE;
    show("initialize", json::parse(opened.body)["result"]["protocolVersion"]);

    const json list = {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}};
    const json listed = json::parse(demo_post(endpoint, list, opened.session_id).body);
    json names = json::array();
    for (const json& tool : listed["result"]["tools"]) names.push_back(tool["name"]);
    show("tools/list", names);

    const json put = {{"jsonrpc", "2.0"},
                      {"id", 3},
                      {"method", "tools/call"},
                      {"params", {{"name", "put-content"}, {"arguments", {{"key", "color"}, {"value", "blue"}}}}}};
    const json refused = json::parse(demo_post(endpoint, put, opened.session_id).body)["result"];
    show("put-content without payment, isError", refused["isError"]);
    show("payment required", refused["structuredContent"]);
    const bool ok = names == json::array({"put-content", "get-content"}) && refused["isError"] == true &&
                    refused["structuredContent"]["accepts"][0]["amount"] == "10000";
    std::cout << (ok ? "agent-server: demo ok (run with --serve to serve MCP over HTTP)\n"
                     : "agent-server: demo gave unexpected answers\n");
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

inline x402::mcp::awaitable<x402::mcp::HttpResponse> metrics_page(const x402::mcp::Server* server,
                                                                   const x402::payment::PaymentMetrics* payments,
                                                                   x402::session::AnyStore store) {
    x402::mcp::HttpResponse response = x402::http::Response::text(200, x402::mcp::prometheus_text(*server, payments, &store));
    response.content_type = std::string(x402::http::PrometheusText::content_type);
    co_return response;
}

/// GET /metrics: the server's counters in the Prometheus text format (free;
/// only with --metrics, since it tells anyone who asks how busy the server is).
inline void add_metrics_route(x402::mcp::Server& server, const x402::payment::PaymentMetrics* payments,
                              x402::session::AnyStore store) {
    x402::mcp::HttpRoute route;
    route.method = "GET";
    route.path = "/metrics";
    route.handler = [&server, payments, store](x402::mcp::HttpRequest) { return metrics_page(&server, payments, store); };
    server.http_routes().add(std::move(route));
}

/// The whole program: parse, build the store, tools and gate, then demo or serve.
inline int run(int argc, char** argv) {
    const std::optional<Options> options = parse(argc, argv);
    if (!options) return 2;
    boost::asio::io_context io;
    std::optional<x402::session::AnyStore> store = make_store(io.get_executor(), *options);
    if (!store) return 2;
    const x402::session::SessionPlugin sessions(std::move(*store));

    x402::mcp::ServerOptions server_options;
    server_options.address = options->address;
    server_options.port = options->port;
    server_options.max_connections = options->max_connections;
    server_options.idle_timeout = options->idle_timeout;
    server_options.header_timeout = options->header_timeout;
    server_options.body_timeout = options->body_timeout;
    server_options.write_timeout = options->write_timeout;
    server_options.allowed_hosts = options->allowed_hosts;
    server_options.allowed_origins = options->allowed_origins;
    server_options.endpoint.server_name = "x402-session-agent-server";
    server_options.endpoint.instructions =
        "Stores and retrieves content per x402 signer: put-content ($0.01) and get-content ($0.001); "
        "the resource template content://{key} ($0.001) reads one key; the prompt recall-content ($0.001) "
        "holds one key's value.";
    x402::mcp::Server server(io, server_options);
    add_content_tools(server.tools(), options->pricing, options->max_value_length);
    add_content_routes(server.http_routes(), options->pricing);
    add_content_resources(server.endpoint().resources(), options->pricing);
    add_content_prompts(server.endpoint().prompts(), options->pricing);
    try {
        (void)x402::mcp::Price(price(options->pricing, "put-content", "check", "10000"));
    } catch (const std::exception& error) {
        std::cerr << "agent-server: bad pricing options: " << error.what() << '\n';
        return 2;
    }
    std::optional<Gates> gates = make_gates(*options, sessions, io.get_executor());
    if (!gates) return 2;
    server.set_payment_gate(std::move(gates->mcp));
    server.set_http_payment_gate(std::move(gates->http));
    if (options->metrics) add_metrics_route(server, gates->metrics, sessions.store());

    if (!options->serve) return demo(server.endpoint());

    boost::asio::ip::tcp::endpoint bound;
    try {
        bound = server.start();
    } catch (const std::exception& error) {
        std::cerr << "agent-server: cannot listen on " << options->address << ':' << options->port << ": "
                  << error.what() << '\n';
        return 1;
    }
    // Drain: stop accepting, close idle connections, let every call being
    // answered finish (a paid one: verify, handler, settle, commit) and send
    // its answer, bounded by drain_timeout; then stop the loop (a Redis
    // store keeps connections and timers on `io` that would keep it running).
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer poll(io);
    const auto deadline = std::make_shared<std::chrono::steady_clock::time_point>();
    std::function<void()> wait_for_calls = [&] {
        if ((server.in_flight() == 0 && server.connections() == 0) || std::chrono::steady_clock::now() >= *deadline) {
            if (server.in_flight() != 0)
                std::cerr << "agent-server: drain timed out with " << server.in_flight() << " calls running\n";
            server.stop();
            io.stop();
            return;
        }
        poll.expires_after(std::chrono::milliseconds(20));
        poll.async_wait([&](const boost::system::error_code&) { wait_for_calls(); });
    };
    signals.async_wait([&](const boost::system::error_code& error, int) {
        if (error) return;
        std::cerr << "agent-server: draining\n";
        *deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        server.drain();
        wait_for_calls();
    });
    const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                     : bound.address().to_string();
    if (options->allowed_hosts.empty() && !x402::http::RequestPolicy::is_loopback_address(bound.address()))
        std::cerr << "agent-server: not on loopback and no --allowed-host: the Host header is not checked, so a "
                     "DNS-rebinding page can reach the free routes; pass --allowed-host with this server's names\n";
    std::cout << "agent-server: listening on http://" << host << ':' << bound.port() << "/mcp" << std::endl;
    std::cerr << "agent-server: plain HTTP (x402 payment header): GET http://" << host << ':' << bound.port()
              << "/content/<key>\n";

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < options->threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& thread : threads) thread.join();
    std::cout << "agent-server: stopped" << std::endl;
    return EXIT_SUCCESS;
}

}  // namespace agent_server
