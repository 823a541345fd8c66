// Redis-only tests: URL parsing, hash slots, the key layout, typed errors,
// timeouts, NOSCRIPT fallback, completion in the caller's payer context,
// Redis Cluster routing and redirects (a live slot migration: ASK, then
// MOVED), the replay guard, make_store, and fault tests on servers of their
// own (killed during a load, restarted, AOF persistence across a restart).
#include <x402/redis/store_url.hpp>
#include <x402/redis/store.hpp>
#include <x402/redis/eviction.hpp>

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <x402/session/context.hpp>
#include <x402/session/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <sys/prctl.h>
#include <sstream>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
// Asio's any_io_executor shares a large target (a ContextExecutor) through a
// reference count released with fetch_sub(release) + atomic_thread_fence
// (acquire); ThreadSanitizer does not model the fence (g++ says so with
// -Wtsan) and reports the delete after the last release as a race.
extern "C" const char* __tsan_default_suppressions() {
    return "race:boost::asio::execution::detail::shared_target_executor::~shared_target_executor\n";
}
#endif

using namespace std::chrono_literals;
using namespace std::string_literals;
using namespace redis_tests;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;
using Catch::Matchers::StartsWith;
using test_support::run;
using x402::session::ListOptions;
using x402::session::SetOptions;
namespace redis = x402::redis;
namespace asio = boost::asio;

namespace {

SetOptions no_options() { return {}; }

// --- Servers of our own, for the fault tests ---------------------------------

std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

bool answers_ping(std::uint16_t port) {
    try {
        asio::io_context io;
        asio::ip::tcp::socket socket(io);
        socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        asio::write(socket, asio::buffer(std::string("PING\r\n")));
        asio::streambuf buffer;
        asio::read_until(socket, buffer, "\r\n");
        std::string line((std::istreambuf_iterator<char>(&buffer)), std::istreambuf_iterator<char>());
        return line.starts_with("+PONG");
    } catch (const std::exception&) {
        return false;
    }
}

void pause_briefly(std::chrono::milliseconds how_long) {
    asio::io_context io;
    asio::steady_timer timer(io, how_long);
    timer.wait();
}

/// A redis-server child process on 127.0.0.1:port; SIGKILLed at destruction.
class ServerProcess {
public:
    ServerProcess(std::uint16_t port, std::filesystem::path dir, bool appendonly,
                  std::vector<std::string> extra_args = {})
        : port_(port) {
        std::filesystem::create_directories(dir);
        std::vector<std::string> args{X402_REDIS_SERVER_PATH, "--port", std::to_string(port), "--bind", "127.0.0.1",
                                      "--save", "", "--dir", dir.string(), "--appendonly",
                                      appendonly ? "yes" : "no", "--appendfsync", "always", "--logfile",
                                      (dir / "redis.log").string()};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        std::vector<char*> argv;
        for (auto& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("cannot start redis-server");
        if (pid_ == 0) {
            // The server dies with the test, even when the test is killed.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!answers_ping(port)) {
            if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("redis-server did not start");
            pause_briefly(10ms);
        }
    }
    ~ServerProcess() { stop(SIGKILL); }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    /// SIGKILL: a crash. SIGTERM: a clean shutdown (the AOF is flushed).
    void stop(int signal) {
        if (pid_ <= 0) return;
        ::kill(pid_, signal);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

private:
    std::uint16_t port_;
    pid_t pid_ = -1;
};

std::filesystem::path scratch_dir() {
    return std::filesystem::temp_directory_path() / ("x402-redis-test-" + unique_prefix().substr(9));
}

redis::Config fast_config(const std::string& url, std::chrono::milliseconds timeout = 1500ms) {
    auto config = redis::parse_url(url);
    config.operation_timeout = timeout;
    return config;
}

std::shared_ptr<RedisStore> store_on(IoThreads& threads, redis::Config config) {
    RedisStoreOptions options;
    options.key_prefix = unique_prefix();
    return std::make_shared<RedisStore>(threads.executor(), std::move(config), std::move(options));
}

void put(RedisStore& store, std::string payer, std::string key, std::string value) {
    run(store.set(std::move(payer), std::move(key), std::move(value), no_options()));
}
std::optional<std::string> get(RedisStore& store, std::string payer, std::string key) {
    return run(store.get(std::move(payer), std::move(key)));
}

/// Retries `put` until it succeeds (the store reconnects by itself), at most `within`.
bool put_eventually(RedisStore& store, const std::string& payer, const std::string& key, const std::string& value,
                    std::chrono::seconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            put(store, payer, key, value);
            return true;
        } catch (const redis::RedisConnectionError&) {
            pause_briefly(20ms);
        }
    }
    return false;
}

/// The message of the RedisError `f` throws.
template <class F>
std::string server_error(F&& f) {
    try {
        f();
    } catch (const redis::RedisError& error) {
        return error.what();
    }
    return "no RedisError";
}

template <class F>
std::chrono::milliseconds timed(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace

// --- Pure functions ------------------------------------------------------------

TEST_CASE("redis: key_slot matches redis-cli cluster keyslot", "[redis][slots]") {
    STATIC_REQUIRE(redis::crc16("123456789") == 0x31c3);
    const std::map<std::string, int> known{{"foo", 12182},
                                           {"bar", 5061},
                                           {"hello", 866},
                                           {"{user1000}.following", 3443},
                                           {"123456789", 12739},
                                           {"", 0},
                                           {"a{}b", 13694},
                                           {"{}{x}", 3257},
                                           {"x{y}z", 12222}};
    for (const auto& [key, slot] : known) {
        INFO("key " << key);
        REQUIRE(redis::key_slot(key) == slot);
    }
}

TEST_CASE("redis: parse_url accepts the documented forms", "[redis][url]") {
    auto plain = redis::parse_url("redis://localhost");
    REQUIRE(plain.nodes == std::vector<redis::Endpoint>{{"localhost", 6379}});
    REQUIRE_FALSE(plain.cluster);
    REQUIRE(plain.database == 0);
    REQUIRE(plain.user.empty());
    REQUIRE(plain.password.empty());

    auto full = redis::parse_url("redis://us%40er:p%3Ass@127.0.0.1:6390/3");
    REQUIRE(full.nodes == std::vector<redis::Endpoint>{{"127.0.0.1", 6390}});
    REQUIRE(full.user == "us@er");
    REQUIRE(full.password == "p:ss");
    REQUIRE(full.database == 3);

    auto password_only = redis::parse_url("redis://:secret@h:1/");
    REQUIRE(password_only.user.empty());
    REQUIRE(password_only.password == "secret");

    auto v6 = redis::parse_url("redis://[::1]:7000");
    REQUIRE(v6.nodes == std::vector<redis::Endpoint>{{"::1", 7000}});

    auto cluster = redis::parse_url("redis+cluster://a:7000,b:7001,c");
    REQUIRE(cluster.cluster);
    REQUIRE(cluster.nodes == std::vector<redis::Endpoint>{{"a", 7000}, {"b", 7001}, {"c", 6379}});
}

TEST_CASE("redis: parse_url rejects malformed URLs with a clear message", "[redis][url]") {
    REQUIRE_THROWS_MATCHES(redis::parse_url("http://x"), std::invalid_argument,
                           Message("unsupported redis URL scheme (expected redis:// or redis+cluster://): http://x"));
    REQUIRE_THROWS_MATCHES(redis::parse_url("redis://h:0"), std::invalid_argument,
                           Message("invalid port in redis URL: redis://h:0"));
    REQUIRE_THROWS_MATCHES(redis::parse_url("redis://h:99999"), std::invalid_argument,
                           Message("invalid port in redis URL: redis://h:99999"));
    REQUIRE_THROWS_MATCHES(redis::parse_url("redis://h/x"), std::invalid_argument,
                           Message("invalid database in redis URL: redis://h/x"));
    REQUIRE_THROWS_MATCHES(redis::parse_url("redis://"), std::invalid_argument,
                           Message("missing host in redis URL: redis://"));
    REQUIRE_THROWS_MATCHES(redis::parse_url("redis://a,b"), std::invalid_argument,
                           Message("redis:// takes one host (use redis+cluster:// for several): redis://a,b"));
    REQUIRE_THROWS_MATCHES(redis::parse_url("redis+cluster://a/1"), std::invalid_argument,
                           Message("redis cluster has only database 0: redis+cluster://a/1"));
    REQUIRE_THROWS_MATCHES(redis::parse_url("redis://%zz@h"), std::invalid_argument,
                           Message("invalid percent escape in redis URL"));
}

TEST_CASE("redis: store options are checked before connecting", "[redis][options]") {
    asio::io_context io;
    RedisStoreOptions negative;
    negative.ttl = -1ms;
    REQUIRE_THROWS_MATCHES(RedisStore(io.get_executor(), "redis://127.0.0.1:1", negative), std::invalid_argument,
                           Message("ttl must be >= 0"));
    RedisStoreOptions braces;
    braces.key_prefix = "a{b";
    REQUIRE_THROWS_MATCHES(RedisStore(io.get_executor(), "redis://127.0.0.1:1", braces), std::invalid_argument,
                           Message("key_prefix must not contain { or }"));
    RedisStoreOptions empty_pages;
    empty_pages.page_limits.max_bytes = 0;
    REQUIRE_THROWS_MATCHES(RedisStore(io.get_executor(), "redis://127.0.0.1:1", empty_pages), std::invalid_argument,
                           Message("max_page_bytes must be >= 1"));
    // A payer's ContextExecutor is refused at compile time: connections are shared.
    using PayerExecutor = x402::session::ContextExecutor<asio::strand<asio::io_context::executor_type>>;
    STATIC_REQUIRE_FALSE(std::is_constructible_v<RedisStore, PayerExecutor, std::string_view>);
    STATIC_REQUIRE(std::is_constructible_v<RedisStore, asio::io_context::executor_type, std::string_view>);
    // ... and at run time when type-erased, e.g. from co_await this_coro::executor.
    const PayerExecutor payer_executor(asio::make_strand(io), nullptr);
    REQUIRE_THROWS_MATCHES(RedisStore(asio::any_io_executor(payer_executor), "redis://127.0.0.1:1"),
                           std::invalid_argument,
                           Message("RedisStore must be built on a plain executor, not a payer's context executor"));
}

TEST_CASE("redis: the layout keeps each payer in one slot and never collides", "[redis][layout]") {
    asio::io_context io;
    RedisStore store(io.get_executor(), "redis://127.0.0.1:1");
    for (const auto& payer : {""s, "{"s, "}"s, "{x}"s, "0xAbC"s, "a\0}"s}) {
        const auto slot = redis::key_slot(store.index_key(payer));
        REQUIRE(redis::key_slot(store.value_key(payer, "k")) == slot);
        REQUIRE(redis::key_slot(store.value_key(payer, "{other}")) == slot);
        REQUIRE(redis::key_slot(store.value_key(payer, "}")) == slot);
    }
    REQUIRE(store.value_key("a", "b:c") != store.value_key("a:b", "c"));
    REQUIRE(store.value_key("a", "") != store.index_key("a"));
    REQUIRE(store.index_key("0xabc") == "x402:session:{p307861626" "3}:i");
}

// --- Errors ----------------------------------------------------------------------

TEST_CASE("redis: a refused connection fails fast with RedisConnectionError", "[redis][errors]") {
    IoThreads threads;
    auto store = store_on(threads, fast_config("redis://127.0.0.1:" + std::to_string(free_port()), 5000ms));
    const auto took = timed([&] {
        try {
            get(*store, "p", "k");
            FAIL("no error");
        } catch (const redis::RedisConnectionError& error) {
            REQUIRE(error.reason() == redis::ConnectionErrc::connect_failed);
            REQUIRE_THAT(error.what(), Contains("127.0.0.1"));
        }
    });
    REQUIRE(took < 2000ms);
    // During the reconnect backoff: the same error at once.
    REQUIRE_THROWS_AS(get(*store, "p", "k"), redis::RedisConnectionError);
}

TEST_CASE("redis: a server that never answers gives a timeout error", "[redis][errors]") {
    // A listening socket nobody accepts from: the kernel completes the TCP
    // handshake (backlog), and no byte ever comes back.
    asio::io_context silent;
    asio::ip::tcp::acceptor acceptor(silent, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = std::to_string(acceptor.local_endpoint().port());
    IoThreads threads;
    auto store = store_on(threads, fast_config("redis://127.0.0.1:" + port, 300ms));
    const auto took = timed([&] {
        REQUIRE_THROWS_MATCHES(get(*store, "p", "k"), redis::RedisConnectionError,
                               Message("127.0.0.1:" + port + ": no reply within 300 ms: redis operation timed out"));
    });
    REQUIRE(took >= 250ms);
    REQUIRE(took < 3000ms);
}

TEST_CASE("redis: a wrong password gives RedisError with the server's message", "[redis][errors]") {
    IoThreads threads;
    auto config = redis::parse_url(server_url("X402_REDIS_URL"));
    config.password = "wrong";
    auto store = store_on(threads, config);
    REQUIRE_THAT(server_error([&] { get(*store, "p", "k"); }), StartsWith("WRONGPASS"));
    config.user.clear();
    config.password.clear();
    auto anonymous = store_on(threads, config);
    REQUIRE_THAT(server_error([&] { get(*anonymous, "p", "k"); }), StartsWith("NOAUTH"));
}

TEST_CASE("redis: an error reply is a RedisError with the server's message", "[redis][errors]") {
    IoThreads threads;
    auto store = store_on(threads, redis::parse_url(server_url("X402_REDIS_URL")));
    redis::Command set{"SET", "x402test:text", "abc"};
    raw(*store, set, "x402test:text");
    redis::Command incr{"INCR", "x402test:text"};
    REQUIRE_THROWS_MATCHES(raw(*store, incr, "x").check(), redis::RedisError,
                           Message("ERR value is not an integer or out of range"));
    // The database of the URL was selected.
    redis::Command client_info{"CLIENT", "INFO"};
    REQUIRE_THAT(raw(*store, client_info, "x").str, Contains(" db=2 "));
}

TEST_CASE("redis: scripts fall back to EVAL after SCRIPT FLUSH", "[redis][scripts]") {
    IoThreads threads;
    auto store = store_on(threads, redis::parse_url(server_url("X402_REDIS_URL")));
    put(*store, "p", "k", "v");
    redis::Command flush{"SCRIPT", "FLUSH"};
    raw(*store, flush, "x").check();
    REQUIRE(get(*store, "p", "k") == "v");
    REQUIRE(get(*store, "p", "k") == "v");
}

TEST_CASE("redis: each script's SHA-1 constant is the one the server computes", "[redis][scripts]") {
    IoThreads threads;
    auto store = store_on(threads, redis::parse_url(server_url("X402_REDIS_URL")));
    namespace scripts = x402::redis::detail;
    for (const scripts::Script* script : {&scripts::set_script(), &scripts::get_script(), &scripts::erase_script(),
                                          &scripts::apply_script(), &scripts::list_script()}) {
        redis::Command load{"SCRIPT", "LOAD", script->source};
        auto reply = raw(*store, load, "x");
        reply.check();
        CHECK(reply.str == script->sha1);
    }
}

TEST_CASE("redis: an apply that empties and refills a payer's index leaves it expiring", "[redis][apply]") {
    IoThreads threads;
    auto store = store_on(threads, redis::parse_url(server_url("X402_REDIS_URL")));
    const std::string payer = "0xapplyindex";
    x402::session::SetOptions hour;
    hour.ttl = std::chrono::hours(1);
    test_support::run(store->set(payer, "a", "1", hour));
    std::vector<x402::session::Write> writes;
    writes.emplace_back(x402::session::EraseWrite("a"));  // empties (deletes) the index
    writes.emplace_back(x402::session::SetWrite("b", "2", hour));
    test_support::run(store->apply(payer, writes));
    REQUIRE(test_support::run(store->get(payer, "b")) == "2");
    const auto left = pttl(*store, store->index_key(payer));
    CHECK(left > 0);
    CHECK(left <= 3'600'000);
}

// --- Context ---------------------------------------------------------------------

namespace {

struct ContextProgress {
    explicit ContextProgress(int total) : left(total) {}
    std::atomic<int> wrong_payer{0};
    std::atomic<int> failures{0};
    std::atomic<int> left;
    std::promise<void> all_done;
};

x402::session::awaitable<void> paid_handler(std::shared_ptr<RedisStore> store, std::string payer,
                                            std::shared_ptr<ContextProgress> progress) {
    try {
        for (int i = 0; i < 5; ++i) {
            co_await store->set(payer, "k", std::to_string(i), {});
            if (x402::session::get_payer() != payer) ++progress->wrong_payer;
            auto value = co_await store->get(payer, "k");
            if (x402::session::get_payer() != payer) ++progress->wrong_payer;
            if (value != std::to_string(i)) ++progress->failures;
        }
    } catch (const std::exception&) {
        ++progress->failures;
    }
    store.reset();  // before the test may destroy the store's io_context
    if (--progress->left == 0) progress->all_done.set_value();
}

}  // namespace

TEST_CASE("redis: operations resume the awaiting coroutine in its own payer context", "[redis][context]") {
    IoThreads handlers(4);  // destroyed last: the connections post completions to it
    IoThreads connections(2);
    auto store = store_on(connections, redis::parse_url(server_url("X402_REDIS_URL")));
    constexpr int payers = 100;
    auto progress = std::make_shared<ContextProgress>(payers);
    auto finished = progress->all_done.get_future();
    auto sessions = x402::session::AnyStore::make<x402::session::InMemoryStore>();
    for (int i = 0; i < payers; ++i) {
        const auto payer = "0xpayer" + std::to_string(i);
        auto context = std::make_shared<const x402::session::Context>(x402::session::Session(payer, sessions));
        x402::session::ContextExecutor executor(asio::make_strand(handlers.io()), context);
        asio::co_spawn(executor, paid_handler(store, payer, progress), asio::detached);
    }
    REQUIRE(finished.wait_for(60s) == std::future_status::ready);
    REQUIRE(progress->wrong_payer.load() == 0);
    REQUIRE(progress->failures.load() == 0);
}

// --- make_store ------------------------------------------------

TEST_CASE("redis: make_store picks the store from the URL", "[redis][url]") {
    IoThreads threads;
    auto memory = x402::redis::make_store(threads.executor(), "memory://");
    REQUIRE(memory.target<x402::session::InMemoryStore>() != nullptr);
    RedisStoreOptions options;
    options.key_prefix = unique_prefix();
    auto standalone = x402::redis::make_store(threads.executor(), server_url("X402_REDIS_URL"), options);
    REQUIRE(standalone.target<RedisStore>() != nullptr);
    run(standalone.set("p", "k", "v", no_options()));
    REQUIRE(run(standalone.get("p", "k")) == "v");
    auto cluster = x402::redis::make_store(threads.executor(), server_url("X402_REDIS_CLUSTER_URL"), options);
    run(cluster.set("p", "k", "c", no_options()));
    REQUIRE(run(cluster.get("p", "k")) == "c");
    REQUIRE_THROWS_MATCHES(x402::redis::make_store(threads.executor(), "mongodb://x"), std::invalid_argument,
                           Message("unsupported store URL (expected memory://, redis:// or redis+cluster://): "
                                   "mongodb://x"));
}

// --- Cluster ---------------------------------------------------------------------

TEST_CASE("redis: cluster payers spread over the masters and each stays on one", "[redis][cluster]") {
    RedisClusterBackend backend;
    auto& store = *backend.redis;
    std::set<std::string> owners;
    for (int i = 0; i < 24; ++i) {
        const auto payer = "0xspread" + std::to_string(i);
        put(store, payer, "a", "1");
        put(store, payer, "b", "2");
        REQUIRE(run(store.list(payer, ListOptions())).entries.size() == 2);
        auto owner = store.client()->slot_owner(redis::key_slot(store.index_key(payer)));
        REQUIRE(owner);
        owners.insert(owner->to_string());
    }
    REQUIRE(owners.size() == 3);
}

namespace {

/// A client talking to one cluster node directly (no routing).
std::shared_ptr<redis::Client> node_client(IoThreads& threads, const redis::Endpoint& node) {
    auto config = redis::parse_url("redis://" + node.to_string());
    return std::make_shared<redis::Client>(threads.executor(), config);
}

redis::Reply on_node(redis::Client& client, redis::Command command) {
    auto reply = run(client.execute(std::move(command), ""));
    reply.check();
    return reply;
}

}  // namespace

TEST_CASE("redis: cluster follows a live slot migration through ASK and then MOVED", "[redis][cluster]") {
    RedisClusterBackend backend;
    auto& store = *backend.redis;
    // A payer of its own, so each run migrates another slot (the hash tag is the payer's).
    const std::string payer = "0xmigrating" + unique_prefix();
    for (int i = 0; i < 5; ++i) put(store, payer, "k" + std::to_string(i), "v" + std::to_string(i));
    const auto slot = redis::key_slot(store.index_key(payer));
    const auto source = store.client()->slot_owner(slot);
    REQUIRE(source);

    IoThreads admin;
    auto source_node = node_client(admin, *source);
    // Every master: "id host:port@bus flags ..." lines of CLUSTER NODES.
    std::map<std::string, redis::Endpoint> masters;  // id -> endpoint
    std::string source_id;
    {
        std::istringstream lines(on_node(*source_node, redis::Command{"CLUSTER", "NODES"}).str);
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream fields(line);
            std::string id, address, flags;
            fields >> id >> address >> flags;
            if (flags.find("master") == std::string::npos) continue;
            auto endpoint = redis::detail::parse_endpoint(address.substr(0, address.find('@')), address);
            masters[id] = endpoint;
            if (flags.find("myself") != std::string::npos) source_id = id;
        }
    }
    REQUIRE(masters.size() == 3);
    REQUIRE_FALSE(source_id.empty());
    std::string target_id;
    for (const auto& [id, endpoint] : masters) {
        if (id != source_id) target_id = id;
    }
    const auto target = masters.at(target_id);
    auto target_node = node_client(admin, target);
    const auto slot_text = std::to_string(slot);

    on_node(*target_node, redis::Command{"CLUSTER", "SETSLOT", slot_text, "IMPORTING", source_id});
    on_node(*source_node, redis::Command{"CLUSTER", "SETSLOT", slot_text, "MIGRATING", target_id});
    auto keys = on_node(*source_node, redis::Command{"CLUSTER", "GETKEYSINSLOT", slot_text, "1000"});
    REQUIRE(keys.elements.size() >= 6);  // the index and five entries (and any other data of the slot)
    redis::Command migrate{"MIGRATE", target.host, std::to_string(target.port), "", "0", "5000", "KEYS"};
    for (const auto& key : keys.elements) migrate.push_back(key.str);
    on_node(*source_node, migrate);

    // Migrating: the source answers ASK, the store follows it with ASKING.
    const auto before = store.client()->stats();
    REQUIRE(get(store, payer, "k3") == "v3");
    REQUIRE(run(store.list(payer, ListOptions())).entries.size() == 5);
    REQUIRE(store.client()->stats().ask >= before.ask + 2);

    // Migrated: every master learns the new owner; the store gets MOVED and refreshes.
    for (const auto& [id, endpoint] : masters) {
        auto node = node_client(admin, endpoint);
        on_node(*node, redis::Command{"CLUSTER", "SETSLOT", slot_text, "NODE", target_id});
    }
    REQUIRE(get(store, payer, "k4") == "v4");
    put(store, payer, "k5", "v5");
    REQUIRE(run(store.list(payer, ListOptions())).entries.size() == 6);
    const auto after = store.client()->stats();
    REQUIRE(after.moved >= before.moved + 1);
    REQUIRE(after.refreshes > before.refreshes);
    REQUIRE(store.client()->slot_owner(slot) == target);
}

// --- Faults ------------------------------------------------------------------------

namespace {

struct LoadProgress {
    explicit LoadProgress(int total) : left(total) {}
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0};
    std::atomic<int> connection_errors{0};
    std::atomic<int> other_errors{0};
    std::atomic<long long> slowest_failure_ms{0};
    std::atomic<int> left;
    std::promise<void> all_done;
};

x402::session::awaitable<void> load(std::shared_ptr<RedisStore> store, std::string payer,
                                    std::shared_ptr<LoadProgress> progress) {
    for (int i = 0; !progress->stop.load(); ++i) {
        const auto start = std::chrono::steady_clock::now();
        bool failed = false;
        try {
            co_await store->set(payer, "k" + std::to_string(i % 10), std::to_string(i), {});
            co_await store->get(payer, "k" + std::to_string(i % 10));
            ++progress->ok;
        } catch (const redis::RedisConnectionError&) {
            ++progress->connection_errors;
            const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                   start).count();
            auto slowest = progress->slowest_failure_ms.load();
            while (took > slowest && !progress->slowest_failure_ms.compare_exchange_weak(slowest, took)) {
            }
            failed = true;
        } catch (const std::exception&) {
            ++progress->other_errors;
        }
        if (failed) {  // do not spin while the server is down
            asio::steady_timer pause(co_await asio::this_coro::executor, 5ms);
            co_await pause.async_wait(asio::use_awaitable);
        }
    }
    store.reset();  // before the test may destroy the store's io_context
    if (--progress->left == 0) progress->all_done.set_value();
}

}  // namespace

TEST_CASE("redis: fault: server killed during a load then restarted on the same port", "[redis][faults]") {
    const auto port = free_port();
    const auto dir = scratch_dir();
    auto server = std::make_unique<ServerProcess>(port, dir, false);
    IoThreads clients(2);  // destroyed last: the connections post completions to it
    IoThreads connections(2);
    auto store = store_on(connections, fast_config(server->url(), 1500ms));
    put(*store, "0xwarm", "k", "v");

    constexpr int workers = 8;
    auto progress = std::make_shared<LoadProgress>(workers);
    auto finished = progress->all_done.get_future();
    for (int i = 0; i < workers; ++i) {
        asio::co_spawn(asio::make_strand(clients.io()), load(store, "0xload" + std::to_string(i), progress),
                       asio::detached);
    }
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (progress->ok.load() < 200 && std::chrono::steady_clock::now() < deadline) pause_briefly(5ms);
    REQUIRE(progress->ok.load() >= 200);
    server->stop(SIGKILL);  // a crash in the middle of the load
    while (progress->connection_errors.load() < 50 && std::chrono::steady_clock::now() < deadline) {
        pause_briefly(5ms);
    }
    progress->stop = true;
    REQUIRE(finished.wait_for(30s) == std::future_status::ready);
    CHECK(progress->other_errors.load() == 0);
    CHECK(progress->connection_errors.load() >= 50);
    CHECK(progress->slowest_failure_ms.load() < 1500 + 1000);  // bounded by the operation timeout

    // Down: every operation fails fast with a connection error.
    const auto took = timed([&] { REQUIRE_THROWS_AS(get(*store, "0xwarm", "k"), redis::RedisConnectionError); });
    CHECK(took < 1500ms);

    // Back on the same port: the store recovers by itself.
    server = std::make_unique<ServerProcess>(port, dir, false);
    REQUIRE(put_eventually(*store, "0xwarm", "k", "again", 10s));
    REQUIRE(get(*store, "0xwarm", "k") == "again");
    server.reset();
    std::filesystem::remove_all(dir);
}

TEST_CASE("redis: fault: acknowledged writes survive a clean restart with appendonly", "[redis][faults]") {
    const auto port = free_port();
    const auto dir = scratch_dir();
    auto server = std::make_unique<ServerProcess>(port, dir, true);
    IoThreads connections;
    auto store = store_on(connections, fast_config(server->url()));
    for (int i = 0; i < 20; ++i) put(*store, "0xdurable", "k" + std::to_string(i), "v" + std::to_string(i));
    SetOptions eternal;
    eternal.ttl = 0ms;
    run(store->set("0xdurable", "eternal", "e", eternal));
    server->stop(SIGTERM);
    server = std::make_unique<ServerProcess>(port, dir, true);
    REQUIRE(put_eventually(*store, "0xother", "k", "v", 10s));
    auto all = run(store->list("0xdurable", ListOptions()));
    REQUIRE(all.entries.size() == 21);
    for (int i = 0; i < 20; ++i) REQUIRE(get(*store, "0xdurable", "k" + std::to_string(i)) == "v" + std::to_string(i));
    REQUIRE(get(*store, "0xdurable", "eternal") == "e");
    server.reset();
    std::filesystem::remove_all(dir);
}

// --- Eviction: records that must not be evicted refuse an evicting Redis ------

namespace {

/// The EvictionRiskError message of require_no_eviction on `url`, or "" when it completes.
std::string eviction_refusal(IoThreads& threads, const std::string& url,
                             redis::WhenConfigHidden when_hidden = redis::WhenConfigHidden::refuse) {
    auto client = std::make_shared<redis::Client>(threads.executor(), fast_config(url));
    try {
        run(redis::require_no_eviction(client, "replay claims", when_hidden));
        return "";
    } catch (const redis::EvictionRiskError& refused) {
        return refused.what();
    }
}

}  // namespace

TEST_CASE("redis: eviction: a server that may evict is refused, one that never evicts is not", "[redis][eviction]") {
    IoThreads threads;
    const auto dir = scratch_dir();
    ServerProcess lru(free_port(), dir / "lru", false, {"--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"});
    ServerProcess allkeys(free_port(), dir / "allkeys", false,
                          {"--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"});
    ServerProcess noeviction(free_port(), dir / "noeviction", false,
                             {"--maxmemory", "64mb", "--maxmemory-policy", "noeviction"});
    ServerProcess unlimited(free_port(), dir / "unlimited", false, {"--maxmemory-policy", "volatile-lru"});

    CHECK(eviction_refusal(threads, lru.url()) ==
          "replay claims: redis 1 of 1 may evict keys (maxmemory 67108864, maxmemory-policy volatile-lru): "
          "use maxmemory-policy noeviction or maxmemory 0");
    CHECK_THAT(eviction_refusal(threads, allkeys.url()), Catch::Contains("maxmemory-policy allkeys-lru"));
    // The operator's word covers a hidden CONFIG only, never a visible evicting policy.
    CHECK_THAT(eviction_refusal(threads, lru.url(), redis::WhenConfigHidden::operator_guarantees_noeviction),
               Catch::Contains("may evict keys"));
    CHECK(eviction_refusal(threads, noeviction.url()).empty());
    CHECK(eviction_refusal(threads, unlimited.url()).empty());  // maxmemory 0: no limit, nothing evicted
    CHECK(eviction_refusal(threads, server_url("X402_REDIS_URL")).empty());

    // A store whose ledger is used checks its own Redis the same way.
    RedisStore evicting(threads.executor(), lru.url());
    REQUIRE_THROWS_MATCHES(run(evicting.require_durable_ledger()), redis::EvictionRiskError,
                           Catch::Message("the session ledger: redis 1 of 1 may evict keys (maxmemory 67108864, "
                                          "maxmemory-policy volatile-lru): use maxmemory-policy noeviction or "
                                          "maxmemory 0"));
    RedisStore durable(threads.executor(), noeviction.url());
    REQUIRE_NOTHROW(run(durable.require_durable_ledger()));
}

TEST_CASE("redis: eviction: a server hiding CONFIG is refused unless the operator vouches for it", "[redis][eviction]") {
    IoThreads threads;
    ServerProcess hidden(free_port(), scratch_dir() / "hidden", false,
                         {"--maxmemory", "64mb", "--maxmemory-policy", "noeviction", "--rename-command", "CONFIG", ""});
    const std::string refusal = eviction_refusal(threads, hidden.url());
    CHECK_THAT(refusal, Catch::StartsWith("replay claims: redis 1 of 1 refused CONFIG GET maxmemory (ERR unknown command"));
    CHECK_THAT(refusal, Catch::EndsWith("allow CONFIG GET, or state that it never evicts"));
    CHECK(eviction_refusal(threads, hidden.url(), redis::WhenConfigHidden::operator_guarantees_noeviction).empty());
}

TEST_CASE("redis: eviction: every master of a cluster is checked", "[redis][eviction][cluster]") {
    IoThreads threads;
    const std::string url = server_url("X402_REDIS_CLUSTER_URL");
    auto client = std::make_shared<redis::Client>(threads.executor(), fast_config(url));
    redis::Command ping{std::string("PING")};
    const auto pongs = run(client->execute_on_every_master(std::move(ping)));
    REQUIRE(pongs.size() == 3);
    CHECK(eviction_refusal(threads, url).empty());

    // One master (the last of the slot map) evicting; 1 GB, so nothing is
    // evicted meanwhile from the fixture other tests share. Restored after.
    const auto owner_of_last = client->slot_owner(redis::slot_count - 1);
    REQUIRE(owner_of_last);
    auto master = node_client(threads, *owner_of_last);
    struct Restore {
        redis::Client& client;
        ~Restore() {
            try {
                on_node(client, redis::Command{std::string("CONFIG"), std::string("SET"), std::string("maxmemory-policy"),
                                               std::string("noeviction")});
                on_node(client, redis::Command{std::string("CONFIG"), std::string("SET"), std::string("maxmemory"),
                                               std::string("0")});
            } catch (...) {
            }
        }
    } restore{*master};
    on_node(*master, redis::Command{std::string("CONFIG"), std::string("SET"), std::string("maxmemory"),
                                    std::string("1gb")});
    on_node(*master, redis::Command{std::string("CONFIG"), std::string("SET"), std::string("maxmemory-policy"),
                                    std::string("volatile-lru")});
    const std::string refusal = eviction_refusal(threads, url);
    CHECK_THAT(refusal, Catch::Contains("of 3 may evict keys (maxmemory 1073741824, maxmemory-policy volatile-lru)"));
}
