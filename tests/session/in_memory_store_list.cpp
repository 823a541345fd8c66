// InMemoryStore: list order, prefixes, limits and cursors.
#include <x402/session/in_memory_store.hpp>

#include "in_memory_store_helpers.hpp"

using namespace in_memory_tests;

TEST_CASE("delta: list returns keys in ascending byte order", "[in_memory_store][delta][list]") {
    InMemoryStore store;
    // Inserted in a scrambled order; bytes >= 0x80 sort after ASCII, an
    // embedded NUL sorts right after the shorter prefix.
    const std::vector<std::string> scrambled = {"b",  "\xff", "a\0b"s, "",     "\x80", "A",
                                                "ab", "a\0"s, "a",     "\x7f", "\xc3\xa9", "a\xff"};
    for (const auto& key : scrambled) put(store, "0xALICE", key, "v:" + key);
    const std::vector<std::string> ascending = {"",       "A", "a",    "a\0"s, "a\0b"s,    "ab",
                                                "a\xff", "b", "\x7f", "\x80",  "\xc3\xa9", "\xff"};
    Entries expected;
    for (const auto& key : ascending) expected.emplace_back(key, "v:" + key);
    REQUIRE(entries(store, "0xALICE") == expected);

    // The same order one page at a time, through the cursor of each key,
    // including the empty key and the keys with NUL and high bytes.
    Entries paged;
    ListOptions options;
    options.limit = 1;
    for (int page_count = 0;; ++page_count) {
        REQUIRE(page_count <= static_cast<int>(ascending.size()));
        const ListResult page = list(store, "0xALICE", options);
        REQUIRE(page.entries.size() == 1);
        paged.push_back(page.entries.front());
        if (!page.cursor) break;
        options.cursor = *page.cursor;
    }
    REQUIRE(paged == expected);

    // A prefix of a NUL byte and of a high byte.
    REQUIRE(keys_of(list(store, "0xALICE", ListOptions().with_prefix("a\0"s)).entries) ==
            std::vector<std::string>{"a\0"s, "a\0b"s});
    REQUIRE(keys_of(list(store, "0xALICE", ListOptions().with_prefix("\xc3")).entries) ==
            std::vector<std::string>{"\xc3\xa9"});
}

TEST_CASE("list: a cursor is returned only when one more matching live entry exists", "[in_memory_store][list]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 0ms, clock));
    put(store, "0xALICE", "a1", "1");
    put(store, "0xALICE", "a2", "2");
    put(store, "0xALICE", "b1", "3");
    // The page is exactly full and nothing else matches the prefix.
    REQUIRE_FALSE(list(store, "0xALICE", ListOptions().with_prefix("a").with_limit(2)).cursor.has_value());
    // A limit larger than the matches.
    REQUIRE_FALSE(list(store, "0xALICE", ListOptions().with_limit(10)).cursor.has_value());
    // One more matches.
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(2)).cursor.has_value());
    // The only further entry has expired.
    put(store, "0xALICE", "c1", "4", ttl_of(10ms));
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(3)).cursor.has_value());
    clock.advance(11ms);
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(3)) == result_of({{"a1", "1"}, {"a2", "2"}, {"b1", "3"}}));
    // A payer with no entries, a prefix that matches nothing.
    REQUIRE(list(store, "0xNOBODY", ListOptions().with_limit(1)) == ListResult{});
    REQUIRE(list(store, "0xALICE", ListOptions().with_prefix("zzz").with_limit(1)) == ListResult{});
}

TEST_CASE("list: prefix limit keys_only and cursor combine", "[in_memory_store][list]") {
    InMemoryStore store;
    for (const char* key : {"a", "chat:5", "chat:1", "chat:3", "chat:2", "chat:4", "chat", "chau", "z"}) {
        put(store, "0xALICE", key, std::string("v-") + key);
    }
    ListOptions options;
    options.prefix = "chat:";
    options.limit = 2;
    options.keys_only = true;
    std::vector<Entries> pages;
    for (;;) {
        REQUIRE(pages.size() < 5);
        const ListResult page = list(store, "0xALICE", options);
        pages.push_back(page.entries);
        if (!page.cursor) break;
        options.cursor = *page.cursor;
    }
    REQUIRE(pages == std::vector<Entries>{{{"chat:1", ""}, {"chat:2", ""}},
                                          {{"chat:3", ""}, {"chat:4", ""}},
                                          {{"chat:5", ""}}});
    // A cursor from an unfiltered listing used with a prefix: the prefix
    // still filters, and the position still counts.
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(1));
    REQUIRE(first.entries == Entries{{"a", "v-a"}});
    REQUIRE(keys_of(list(store, "0xALICE", ListOptions().with_prefix("chat:").with_cursor(*first.cursor)).entries) ==
            std::vector<std::string>{"chat:1", "chat:2", "chat:3", "chat:4", "chat:5"});
    const ListResult up_to_chat3 = list(store, "0xALICE", ListOptions().with_prefix("chat").with_limit(4));
    REQUIRE(keys_of(up_to_chat3.entries) == std::vector<std::string>{"chat", "chat:1", "chat:2", "chat:3"});
    REQUIRE(list(store, "0xALICE", ListOptions().with_prefix("cha").with_cursor(*up_to_chat3.cursor)) ==
            result_of({{"chat:4", "v-chat:4"}, {"chat:5", "v-chat:5"}, {"chau", "v-chau"}}));
    // A cursor past every key with the prefix.
    const ListResult up_to_chau = list(store, "0xALICE", ListOptions().with_limit(8));
    REQUIRE(up_to_chau.entries.back().key == "chau");
    REQUIRE(up_to_chau.cursor.has_value());
    REQUIRE(list(store, "0xALICE", ListOptions().with_prefix("chat:").with_cursor(*up_to_chau.cursor)) == ListResult{});
    const ListResult only = list(store, "0xALICE", ListOptions().with_prefix("chau").with_limit(1));
    REQUIRE(only.entries == Entries{{"chau", "v-chau"}});
    REQUIRE_FALSE(only.cursor.has_value());
}

TEST_CASE("delta: a cursor continues after its position when that entry was erased", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    for (const char* key : {"a", "b", "c", "d", "e"}) put(store, "0xALICE", key, key);
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"a", "b"});
    REQUIRE(first.cursor.has_value());
    SECTION("the last returned entry") {
        REQUIRE(erase(store, "0xALICE", "b"));
        const ListResult second = list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor));
        REQUIRE(keys_of(second.entries) == std::vector<std::string>{"c", "d"});
        REQUIRE(second.cursor.has_value());
    }
    SECTION("the last returned entry and the next one") {
        REQUIRE(erase_many(store, "0xALICE", {"b", "c"}) == 2);
        const ListResult second = list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor));
        REQUIRE(second == result_of({{"d", "d"}, {"e", "e"}}));
    }
    SECTION("every entry of the payer") {
        REQUIRE(erase_many(store, "0xALICE", {"a", "b", "c", "d", "e"}) == 5);
        REQUIRE(list_after(store, "0xALICE", *first.cursor) == ListResult{});
    }
}

TEST_CASE("delta: a cursor continues after its position when that entry expired", "[in_memory_store][delta][cursor][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 0ms, clock));
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2", ttl_of(100ms));
    put(store, "0xALICE", "c", "3");
    put(store, "0xALICE", "d", "4");
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(first.entries == Entries{{"a", "1"}, {"b", "2"}});
    REQUIRE(first.cursor.has_value());
    clock.advance(101ms);
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor)) ==
            result_of({{"c", "3"}, {"d", "4"}}));
}

TEST_CASE("delta: a cursor continues after its position when that entry was evicted", "[in_memory_store][delta][cursor][lru]") {
    ManualClock clock;
    InMemoryStore store(options_of(4, 0ms, clock));
    for (const char* key : {"a", "b", "c", "d"}) put(store, "0xALICE", key, key);
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"a", "b"});
    REQUIRE(get(store, "0xALICE", "a") == "a");  // "b" becomes the least recently used
    put(store, "0xBOB", "x", "x");               // evicts "b"
    REQUIRE(get(store, "0xALICE", "b") == std::nullopt);
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor)) ==
            result_of({{"c", "c"}, {"d", "d"}}));
}

TEST_CASE("delta: a key added during pagination appears only if it sorts after the position", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    for (const char* key : {"b", "d", "f"}) put(store, "0xALICE", key, key);
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"b", "d"});
    put(store, "0xALICE", "a", "a");   // before the position
    put(store, "0xALICE", "c", "c");   // before the position
    put(store, "0xALICE", "d", "d2");  // the position itself, overwritten
    put(store, "0xALICE", "e", "e");   // after the position
    put(store, "0xALICE", "d\0"s, "x");  // right after the position
    const ListResult second = list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor));
    REQUIRE(second.entries == Entries{{"d\0"s, "x"}, {"e", "e"}});
    REQUIRE(second.cursor.has_value());
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*second.cursor)) == result_of({{"f", "f"}}));
}

TEST_CASE("delta: every key live through a whole pagination is returned exactly once", "[in_memory_store][delta][cursor]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 0ms, clock));
    const std::string payer = "0xALICE";
    std::vector<std::string> stable;
    for (int i = 10; i < 50; ++i) stable.push_back("s" + std::to_string(i));
    for (const auto& key : stable) put(store, payer, key, "stable");

    const std::uint32_t seed = GENERATE(1u, 2u, 3u);
    const std::size_t limit = GENERATE(1u, 3u, 7u);
    INFO("seed " << seed << " limit " << limit);
    std::mt19937 random(seed);
    auto draw = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };

    std::vector<std::string> churn;           // keys added meanwhile and maybe still live
    std::set<std::string> added_before;       // added while sorting before the position
    std::map<std::string, int> seen;
    ListOptions options;
    options.limit = limit;
    int pages = 0;
    int added = 0;
    for (;;) {
        REQUIRE(++pages < 500);
        const ListResult page = list(store, payer, options);
        REQUIRE(page.entries.size() <= limit);
        for (const auto& entry : page.entries) ++seen[entry.key];
        if (!page.cursor) break;
        const std::string position = page.entries.back().key;
        // Churn between pages: new keys interleaved with the stable ones
        // (some expire), churn keys erased, stable keys overwritten and read.
        for (int n = draw(4); n > 0; --n) {
            const std::string key = stable[static_cast<std::size_t>(draw(40))] + "-" + std::to_string(++added);
            if (key < position) added_before.insert(key);
            put(store, payer, key, "churn", draw(3) == 0 ? ttl_of(std::chrono::milliseconds(1 + draw(20))) : SetOptions{});
            churn.push_back(key);
        }
        if (!churn.empty() && draw(2) == 0) {
            erase(store, payer, churn[static_cast<std::size_t>(draw(static_cast<int>(churn.size())))]);
        }
        put(store, payer, stable[static_cast<std::size_t>(draw(40))], "overwritten");
        static_cast<void>(get(store, payer, stable[static_cast<std::size_t>(draw(40))]));
        clock.advance(std::chrono::milliseconds(draw(10)));
        options.cursor = *page.cursor;
    }
    for (const auto& key : stable) {
        INFO("stable key " << key);
        REQUIRE(seen[key] == 1);
    }
    for (const auto& [key, count] : seen) {
        INFO("key " << key);
        REQUIRE(count == 1);
        REQUIRE(added_before.count(key) == 0);
    }
}

TEST_CASE("delta: a malformed cursor is rejected even for a payer with no entries", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    const std::string malformed = GENERATE(as<std::string>{}, "\0"s, "\xff\xfe", "not a cursor\n");
    const std::string payer = GENERATE(as<std::string>{}, "0xALICE", "0xNOBODY", "");
    INFO("cursor " << escaped(malformed) << " payer " << escaped(payer));
    ListOptions options;
    options.cursor = malformed;
    REQUIRE_THROWS_MATCHES(list(store, payer, options), std::invalid_argument, Message("malformed list cursor"));
    options.limit = 1;
    options.keys_only = true;
    options.prefix = "a";
    REQUIRE_THROWS_MATCHES(list(store, payer, options), std::invalid_argument, Message("malformed list cursor"));
    REQUIRE(entries(store, "0xALICE") == Entries{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("delta: an empty cursor means from the start", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    put(store, "0xALICE", "b", "2");
    put(store, "0xALICE", "a", "1");
    REQUIRE(list_after(store, "0xALICE", "") == result_of({{"a", "1"}, {"b", "2"}}));
    REQUIRE(list_after(store, "0xNOBODY", "") == ListResult{});
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(1).with_cursor(""));
    REQUIRE(first.entries == Entries{{"a", "1"}});
    REQUIRE(first.cursor.has_value());
}

TEST_CASE("delta: a cursor is printable ASCII and does not contain the raw key", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    const std::vector<std::string> keys = {"", "a\0b"s, "password-of-alice", "secret/key with spaces",
                                           "\x01\x02\x7f", "\x80\xfe\xff", "\xff", "\xc3\xa9t\xc3\xa9", "zz"};
    for (const auto& key : keys) put(store, "0xALICE", key, "v");
    ListOptions options;
    options.limit = 1;
    std::vector<std::string> returned;
    for (;;) {
        REQUIRE(returned.size() < keys.size());
        const ListResult page = list(store, "0xALICE", options);
        REQUIRE(page.entries.size() == 1);
        const std::string& key = page.entries.front().key;
        returned.push_back(key);
        if (!page.cursor) break;
        INFO("key " << escaped(key) << " cursor " << escaped(*page.cursor));
        REQUIRE_FALSE(page.cursor->empty());
        REQUIRE(printable_ascii(*page.cursor));
        if (key.size() >= 2) REQUIRE(page.cursor->find(key) == std::string::npos);
        options.cursor = *page.cursor;
    }
    REQUIRE(returned.size() == keys.size());
    REQUIRE(std::is_sorted(returned.begin(), returned.end()));
}
