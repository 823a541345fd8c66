// The Store concept and the type-erased AnyStore: which types are
// stores, that a user's store with only the four required operations works
// everywhere (AnyStore, Session, SessionPlugin), that the batch fallbacks
// loop the single-key operations in order, and that a store's native batch
// operations are used when it has them.
#include <x402/session.hpp>

#include "../support.hpp"
#include "test_stores.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using x402::session::AnyStore;
using x402::session::awaitable;
using x402::session::Entry;
using x402::session::InMemoryStore;
using x402::session::ListOptions;
using x402::session::ListResult;
using x402::session::Session;
using x402::session::SessionPlugin;
using x402::session::SetOptions;
using x402::session::Store;
using x402::session::StoreWithClose;
using x402::session::StoreWithEraseMany;
using x402::session::StoreWithGetMany;
using x402::session::StoreWithSetMany;
using x402::session::VerifiedPayer;
using test_stores::MinimalStore;
using test_stores::NativeBatchStore;
using test_stores::RecordingStore;

namespace {

using Strings = std::vector<std::string>;
using Values = std::vector<std::optional<std::string>>;

// --- Types that are not stores -------------------------------------------

/// get, set and list, but no erase.
struct NoErase {
    awaitable<std::optional<std::string>> get(std::string, std::string) { co_return std::nullopt; }
    awaitable<void> set(std::string, std::string, std::string, SetOptions) { co_return; }
    awaitable<ListResult> list(std::string, ListOptions) { co_return ListResult(); }
};

/// get returns awaitable<std::string> instead of awaitable<optional<string>>.
struct GetWrongType {
    awaitable<std::string> get(std::string, std::string) { co_return std::string(); }
    awaitable<void> set(std::string, std::string, std::string, SetOptions) { co_return; }
    awaitable<bool> erase(std::string, std::string) { co_return false; }
    awaitable<ListResult> list(std::string, ListOptions) { co_return ListResult(); }
};

/// get is synchronous: it returns the optional itself, not an awaitable.
struct GetNotAwaitable {
    std::optional<std::string> get(std::string, std::string) { return std::nullopt; }
    awaitable<void> set(std::string, std::string, std::string, SetOptions) { co_return; }
    awaitable<bool> erase(std::string, std::string) { co_return false; }
    awaitable<ListResult> list(std::string, ListOptions) { co_return ListResult(); }
};

/// erase returns how many entries went instead of a bool.
struct EraseWrongType {
    awaitable<std::optional<std::string>> get(std::string, std::string) { co_return std::nullopt; }
    awaitable<void> set(std::string, std::string, std::string, SetOptions) { co_return; }
    awaitable<std::size_t> erase(std::string, std::string) { co_return 0; }
    awaitable<ListResult> list(std::string, ListOptions) { co_return ListResult(); }
};

/// set without the SetOptions parameter.
struct SetWithoutOptions {
    awaitable<std::optional<std::string>> get(std::string, std::string) { co_return std::nullopt; }
    awaitable<void> set(std::string, std::string, std::string) { co_return; }
    awaitable<bool> erase(std::string, std::string) { co_return false; }
    awaitable<ListResult> list(std::string, ListOptions) { co_return ListResult(); }
};

/// The required operations plus a get_many of the wrong shape (a map-like
/// vector of entries): a Store, but not a StoreWithGetMany.
struct WrongGetMany : MinimalStore {
    awaitable<std::vector<Entry>> get_many(std::string, std::vector<std::string>) { co_return std::vector<Entry>(); }
};

static_assert(Store<MinimalStore>);
static_assert(!StoreWithGetMany<MinimalStore>);
static_assert(!StoreWithSetMany<MinimalStore>);
static_assert(!StoreWithEraseMany<MinimalStore>);
static_assert(!StoreWithClose<MinimalStore>);

static_assert(Store<RecordingStore>);
static_assert(!StoreWithGetMany<RecordingStore> && !StoreWithSetMany<RecordingStore> &&
              !StoreWithEraseMany<RecordingStore> && !StoreWithClose<RecordingStore>);

static_assert(Store<NativeBatchStore>);
static_assert(StoreWithGetMany<NativeBatchStore> && StoreWithSetMany<NativeBatchStore> &&
              StoreWithEraseMany<NativeBatchStore> && StoreWithClose<NativeBatchStore>);

static_assert(Store<InMemoryStore>);
static_assert(StoreWithGetMany<InMemoryStore>);
static_assert(StoreWithSetMany<InMemoryStore>);
static_assert(StoreWithEraseMany<InMemoryStore>);
static_assert(StoreWithClose<InMemoryStore>);

static_assert(Store<AnyStore> && StoreWithGetMany<AnyStore> && StoreWithSetMany<AnyStore> &&
              StoreWithEraseMany<AnyStore> && StoreWithClose<AnyStore>);

static_assert(!Store<NoErase>);
static_assert(!Store<GetWrongType>);
static_assert(!Store<GetNotAwaitable>);
static_assert(!Store<EraseWrongType>);
static_assert(!Store<SetWithoutOptions>);
static_assert(!Store<int>);
static_assert(!StoreWithGetMany<NoErase>);  // the optional concepts require Store
static_assert(Store<WrongGetMany> && !StoreWithGetMany<WrongGetMany>);

// AnyStore accepts exactly the stores.
static_assert(std::is_constructible_v<AnyStore, std::shared_ptr<MinimalStore>>);
static_assert(std::is_constructible_v<AnyStore, std::shared_ptr<InMemoryStore>>);
static_assert(!std::is_constructible_v<AnyStore, std::shared_ptr<NoErase>>);
static_assert(!std::is_constructible_v<AnyStore, std::shared_ptr<GetWrongType>>);
static_assert(!std::is_constructible_v<AnyStore, std::shared_ptr<GetNotAwaitable>>);
static_assert(!std::is_convertible_v<std::shared_ptr<MinimalStore>, AnyStore>);  // explicit

const std::string payer = "p";

ListResult page(std::vector<Entry> entries, std::optional<std::string> cursor = std::nullopt) {
    ListResult result;
    result.entries = std::move(entries);
    result.cursor = std::move(cursor);
    return result;
}

/// Every operation of `store` once, checking each result; the same script
/// for every store, so a fallback and a native batch must agree.
awaitable<void> exercise_every_operation(AnyStore store) {
    const auto before = co_await store.get(payer, "a");
    CHECK_FALSE(before.has_value());
    co_await store.set(payer, "a", "1", {});
    co_await store.set(payer, "b", "2", {});
    co_await store.set("other payer", "a", "x", {});
    const auto a = co_await store.get(payer, "a");
    CHECK(a == "1");

    ListResult all = co_await store.list(payer, {});
    CHECK(all == page({Entry("a", "1"), Entry("b", "2")}));

    std::vector<Entry> batch{Entry("c", "3"), Entry("d", "4")};
    co_await store.set_many(payer, std::move(batch), {});
    Strings keys{"d", "missing", "a"};
    const Values values = co_await store.get_many(payer, std::move(keys));
    CHECK(values == Values{"4", std::nullopt, "1"});

    const bool erased = co_await store.erase(payer, "b");
    const bool erased_again = co_await store.erase(payer, "b");
    CHECK(erased);
    CHECK_FALSE(erased_again);

    Strings to_erase{"a", "missing", "c", "a"};
    const std::size_t removed = co_await store.erase_many(payer, std::move(to_erase));
    CHECK(removed == 2);

    ListResult rest = co_await store.list(payer, {});
    CHECK(rest == page({Entry("d", "4")}));
    const auto other = co_await store.get("other payer", "a");
    CHECK(other == "x");
    co_await store.close();
}

}  // namespace

TEST_CASE("store concept: MinimalStore works through AnyStore for every operation", "[store_concept]") {
    auto minimal = std::make_shared<MinimalStore>();
    test_support::run(exercise_every_operation(AnyStore(minimal)));
    // close() on a store without close is a no-op: the data is still there.
    CHECK(minimal->size() == 2);  // ("p","d") and ("other payer","a")
}

TEST_CASE("store concept: InMemoryStore and NativeBatchStore give the same results", "[store_concept]") {
    test_support::run(exercise_every_operation(AnyStore::make<InMemoryStore>()));
    test_support::run(exercise_every_operation(AnyStore::make<NativeBatchStore>()));
    test_support::run(exercise_every_operation(AnyStore::make<RecordingStore>()));
}

TEST_CASE("store concept: MinimalStore list pages with prefix limit cursor and keys_only", "[store_concept]") {
    // The user's list is forwarded as it is, options included.
    AnyStore store = AnyStore::make<MinimalStore>();
    auto body = [&]() -> awaitable<void> {
        std::vector<Entry> entries{Entry("chat:1", "a"), Entry("chat:2", "b"), Entry("chat:3", "c"),
                                   Entry("other", "d")};
        co_await store.set_many(payer, std::move(entries), {});
        ListOptions first_options = ListOptions().with_prefix("chat:").with_limit(2);
        ListResult first = co_await store.list(payer, std::move(first_options));
        CHECK(first == page({Entry("chat:1", "a"), Entry("chat:2", "b")}, "chat:2"));
        ListOptions second_options = ListOptions().with_prefix("chat:").with_limit(2).with_cursor("chat:2");
        ListResult second = co_await store.list(payer, std::move(second_options));
        CHECK(second == page({Entry("chat:3", "c")}));
        ListOptions keys_options = ListOptions().with_keys_only();
        ListResult keys = co_await store.list(payer, std::move(keys_options));
        CHECK(keys == page({Entry("chat:1", ""), Entry("chat:2", ""), Entry("chat:3", ""), Entry("other", "")}));
    };
    test_support::run(body());
}

TEST_CASE("store concept: AnyStore clamps the page of a store without page limits", "[store_concept][security]") {
    static_assert(!x402::session::StoreWithPageLimits<MinimalStore>);
    AnyStore store = AnyStore::make<MinimalStore>();
    REQUIRE(store.page_limits() == x402::session::PageLimits{});
    const std::size_t cap = x402::session::PageLimits{}.max_entries;
    auto body = [&]() -> awaitable<void> {
        std::vector<Entry> entries;
        for (std::size_t i = 0; i < cap + 5; ++i) entries.emplace_back("k" + std::to_string(1000000 + i), "v");
        co_await store.set_many(payer, std::move(entries), {});
        ListOptions unlimited;
        ListResult first = co_await store.list(payer, std::move(unlimited));
        CHECK(first.entries.size() == cap);
        CHECK(first.cursor);
        ListOptions larger = ListOptions().with_limit(cap * 10);
        ListResult clamped = co_await store.list(payer, std::move(larger));
        CHECK(clamped.entries.size() == cap);
        ListOptions smaller = ListOptions().with_limit(3);
        ListResult three = co_await store.list(payer, std::move(smaller));
        CHECK(three.entries.size() == 3);
    };
    test_support::run(body());
}

TEST_CASE("store concept: AnyStore batch fallbacks loop the single-key operations in order", "[store_concept]") {
    auto recording = std::make_shared<RecordingStore>();
    AnyStore store(recording);
    auto body = [&]() -> awaitable<void> {
        std::vector<Entry> entries{Entry("b", "2"), Entry("a", "1"), Entry("b", "3")};
        co_await store.set_many(payer, std::move(entries), {});
        CHECK(recording->calls == Strings{"set:p:b:2", "set:p:a:1", "set:p:b:3"});
        recording->calls.clear();

        Strings keys{"b", "x", "a", "b"};
        const Values values = co_await store.get_many(payer, std::move(keys));
        CHECK(values == Values{"3", std::nullopt, "1", "3"});
        CHECK(recording->calls == Strings{"get:p:b", "get:p:x", "get:p:a", "get:p:b"});
        recording->calls.clear();

        Strings to_erase{"a", "x", "a", "b"};
        const std::size_t removed = co_await store.erase_many(payer, std::move(to_erase));
        CHECK(removed == 2);
        CHECK(recording->calls == Strings{"erase:p:a", "erase:p:x", "erase:p:a", "erase:p:b"});
        recording->calls.clear();

        // Empty batches call nothing.
        co_await store.set_many(payer, std::vector<Entry>(), {});
        const Values none = co_await store.get_many(payer, Strings());
        const std::size_t zero = co_await store.erase_many(payer, Strings());
        CHECK(none.empty());
        CHECK(zero == 0);
        CHECK(recording->calls.empty());
    };
    test_support::run(body());
}

TEST_CASE("store concept: the single-key operations are forwarded as called", "[store_concept]") {
    auto recording = std::make_shared<RecordingStore>();
    AnyStore store(recording);
    auto body = [&]() -> awaitable<void> {
        co_await store.set("0xAbC", "k", "v", {});
        const auto value = co_await store.get("0xAbC", "k");
        const bool erased = co_await store.erase("0xAbC", "k");
        ListResult listed = co_await store.list("0xAbC", {});
        CHECK(value == "v");
        CHECK(erased);
        CHECK(listed.entries.empty());
    };
    test_support::run(body());
    // AnyStore never folds a payer: that is the Session's job.
    CHECK(recording->calls == Strings{"set:0xAbC:k:v", "get:0xAbC:k", "erase:0xAbC:k", "list:0xAbC"});
}

TEST_CASE("store concept: AnyStore forwards to a store's native batch operations", "[store_concept]") {
    auto native = std::make_shared<NativeBatchStore>();
    AnyStore store(native);
    auto body = [&]() -> awaitable<void> {
        std::vector<Entry> entries{Entry("b", "2"), Entry("a", "1")};
        co_await store.set_many(payer, std::move(entries), {});
        Strings keys{"a", "x", "b"};
        const Values values = co_await store.get_many(payer, std::move(keys));
        CHECK(values == Values{"1", std::nullopt, "2"});
        Strings to_erase{"a", "x"};
        const std::size_t removed = co_await store.erase_many(payer, std::move(to_erase));
        CHECK(removed == 1);
        co_await store.close();
        const auto after_close = co_await store.get(payer, "b");
        CHECK_FALSE(after_close.has_value());
    };
    test_support::run(body());
    CHECK(native->calls ==
          Strings{"set_many:p:b=2,a=1", "get_many:p:a,x,b", "erase_many:p:a,x", "close", "get:p:b"});
}

TEST_CASE("store concept: close on a store without close is a no-op", "[store_concept]") {
    auto recording = std::make_shared<RecordingStore>();
    AnyStore store(recording);
    auto body = [&]() -> awaitable<void> {
        co_await store.set(payer, "k", "v", {});
        co_await store.close();
        co_await store.close();
        const auto value = co_await store.get(payer, "k");
        CHECK(value == "v");
    };
    test_support::run(body());
    CHECK(recording->calls == Strings{"set:p:k:v", "get:p:k"});
}

TEST_CASE("store concept: set_many fallback rejects a negative ttl before any set", "[store_concept]") {
    auto recording = std::make_shared<RecordingStore>();
    AnyStore store(recording);
    SetOptions negative;
    negative.ttl = std::chrono::milliseconds(-1);
    auto body = [&]() -> awaitable<void> {
        std::vector<Entry> entries{Entry("a", "1"), Entry("b", "2")};
        co_await store.set_many(payer, std::move(entries), negative);
    };
    CHECK_THROWS_AS(test_support::run(body()), std::invalid_argument);
    CHECK_THROWS_WITH(test_support::run(body()), "ttl must be >= 0");
    CHECK(recording->calls.empty());

    // The same through the native batch of InMemoryStore: rejected whole.
    auto memory = std::make_shared<InMemoryStore>();
    AnyStore native(memory);
    auto native_body = [&]() -> awaitable<void> {
        std::vector<Entry> entries{Entry("a", "1"), Entry("b", "2")};
        co_await native.set_many(payer, std::move(entries), negative);
    };
    CHECK_THROWS_AS(test_support::run(native_body()), std::invalid_argument);
    CHECK(memory->size() == 0);

    // A zero ttl (never expires) is accepted by the fallback.
    SetOptions eternal;
    eternal.ttl = std::chrono::milliseconds(0);
    auto zero_body = [&]() -> awaitable<void> {
        std::vector<Entry> entries{Entry("a", "1")};
        co_await store.set_many(payer, std::move(entries), eternal);
    };
    test_support::run(zero_body());
    CHECK(recording->calls == Strings{"set:p:a:1"});
}

TEST_CASE("store concept: AnyStore::make and target", "[store_concept]") {
    AnyStore memory = AnyStore::make<InMemoryStore>(x402::session::InMemoryStoreOptions{.max_entries = 5});
    CHECK(memory.target<InMemoryStore>() != nullptr);
    CHECK(memory.target<MinimalStore>() == nullptr);
    CHECK(memory.target<RecordingStore>() == nullptr);

    auto minimal = std::make_shared<MinimalStore>();
    AnyStore wrapped(minimal);
    CHECK(wrapped.target<MinimalStore>() == minimal.get());
    CHECK(wrapped.target<InMemoryStore>() == nullptr);

    // target names the exact wrapped type, like std::any_cast: a derived
    // store is not found as its base.
    AnyStore native = AnyStore::make<NativeBatchStore>();
    CHECK(native.target<NativeBatchStore>() != nullptr);
    CHECK(native.target<RecordingStore>() == nullptr);

    // Copies share the store.
    AnyStore copy = wrapped;
    CHECK(copy.target<MinimalStore>() == minimal.get());
    auto body = [&]() -> awaitable<void> { co_await copy.set(payer, "k", "v", {}); };
    test_support::run(body());
    CHECK(minimal->size() == 1);

    // make forwards its arguments to the store's constructor.
    CHECK_THROWS_AS(AnyStore::make<InMemoryStore>(x402::session::InMemoryStoreOptions{.max_entries = 0}),
                    std::invalid_argument);
}

TEST_CASE("store concept: MinimalStore works through Session", "[store_concept][session]") {
    auto minimal = std::make_shared<MinimalStore>();
    const std::string checksummed = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
    const std::string lower = "0xabcdef0123456789abcdef0123456789abcdef01";
    Session session(checksummed, AnyStore(minimal));
    auto body = [&]() -> awaitable<void> {
        co_await session.set("color", "blue");
        std::vector<Entry> entries{Entry("food", "pizza"), Entry("drink", "tea")};
        co_await session.set_many(std::move(entries));
        Strings keys{"color", "none", "food"};
        const Values values = co_await session.get_many(std::move(keys));
        CHECK(values == Values{"blue", std::nullopt, "pizza"});
        ListResult listed = co_await session.list();
        CHECK(listed == page({Entry("color", "blue"), Entry("drink", "tea"), Entry("food", "pizza")}));
        const bool erased = co_await session.erase("drink");
        CHECK(erased);
        Strings to_erase{"food", "none"};
        const std::size_t removed = co_await session.erase_many(std::move(to_erase));
        CHECK(removed == 1);
        // Stored under the lower-cased payer.
        const auto direct = co_await minimal->get(lower, "color");
        const auto as_given = co_await minimal->get(checksummed, "color");
        CHECK(direct == "blue");
        CHECK_FALSE(as_given.has_value());
    };
    test_support::run(body());
    CHECK(minimal->size() == 1);
}

TEST_CASE("store concept: SessionPlugin with a user store", "[store_concept][plugin]") {
    auto minimal = std::make_shared<MinimalStore>();
    SessionPlugin plugin{AnyStore(minimal)};
    CHECK(plugin.store().target<MinimalStore>() == minimal.get());
    CHECK(plugin.store().target<InMemoryStore>() == nullptr);

    const std::string alice = "0xA11CE00000000000000000000000000000000001";
    auto handler = []() -> awaitable<std::string> {
        auto session = x402::session::get_session();
        if (!session) co_return "no session";
        co_await session->set("written", "by handler");
        co_return session->storage_payer();
    };
    const std::string storage_payer = test_support::run(plugin.run(VerifiedPayer::assume_verified(alice), handler));
    CHECK(storage_payer == "0xa11ce00000000000000000000000000000000001");

    auto read_back = [&]() -> awaitable<std::optional<std::string>> {
        co_return co_await minimal->get("0xa11ce00000000000000000000000000000000001", "written");
    };
    CHECK(test_support::run(read_back()) == "by handler");
    CHECK(minimal->size() == 1);

    // session_for reaches the same store.
    Session session = plugin.session_for(VerifiedPayer::assume_verified(alice));
    auto read_session = [&]() -> awaitable<std::optional<std::string>> { co_return co_await session.get("written"); };
    CHECK(test_support::run(read_session()) == "by handler");
}
