// InMemoryStore: concurrent use from several threads.
#include <x402/session/in_memory_store.hpp>

#include "in_memory_store_helpers.hpp"

using namespace in_memory_tests;

// Threads.
// ---------------------------------------------------------------------------

TEST_CASE("threads: concurrent operations of different payers keep each payer's data its own", "[in_memory_store][threads]") {
    InMemoryStore store;  // real steady clock; nothing expires within an hour
    constexpr int thread_count = 4;
    constexpr int operations = 1500;
    std::vector<std::map<std::string, std::string>> models(thread_count);
    std::atomic<int> mismatches{0};
    std::atomic<int> foreign{0};
    std::atomic<int> errors{0};
    std::atomic<int> writers_done{0};

    auto payer_of = [](int t) { return "0xpayer" + std::to_string(t); };
    auto worker = [&](int t) {
        try {
            const std::string payer = payer_of(t);
            auto& model = models[static_cast<std::size_t>(t)];
            std::mt19937 random(static_cast<std::uint32_t>(t + 1));
            auto draw = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };
            for (int op = 0; op < operations; ++op) {
                const std::string key = "k" + std::to_string(draw(16));  // the same key names for every payer
                switch (draw(6)) {
                case 0:
                case 1: {
                    const std::string value = payer + "/" + key + "/" + std::to_string(op);
                    put(store, payer, key, value);
                    model[key] = value;
                    break;
                }
                case 2: {
                    const auto found = model.find(key);
                    const Value expected = found == model.end() ? Value() : Value(found->second);
                    if (get(store, payer, key) != expected) ++mismatches;
                    break;
                }
                case 3:
                    if (erase(store, payer, key) != (model.erase(key) == 1)) ++mismatches;
                    break;
                case 4: {
                    Entries expected;
                    for (const auto& [k, v] : model) expected.emplace_back(k, v);
                    if (entries(store, payer) != expected) ++mismatches;
                    break;
                }
                case 5: {
                    const std::vector<std::string> batch = {key, "k0", key};
                    std::vector<Value> expected;
                    for (const auto& k : batch) {
                        const auto found = model.find(k);
                        expected.push_back(found == model.end() ? Value() : Value(found->second));
                    }
                    if (get_many(store, payer, batch) != expected) ++mismatches;
                    break;
                }
                }
            }
        } catch (...) {
            ++errors;
        }
        ++writers_done;
    };
    // One more thread only reads every payer and checks that each value it
    // sees belongs to that payer.
    auto observer = [&] {
        try {
            do {
                for (int t = 0; t < thread_count; ++t) {
                    const std::string payer = payer_of(t);
                    for (const auto& entry : entries(store, payer)) {
                        if (entry.value.rfind(payer + "/" + entry.key + "/", 0) != 0) ++foreign;
                    }
                }
            } while (writers_done.load() < thread_count);
        } catch (...) {
            ++errors;
        }
    };

    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) threads.emplace_back(worker, t);
    threads.emplace_back(observer);
    for (auto& thread : threads) thread.join();

    REQUIRE(errors.load() == 0);
    REQUIRE(mismatches.load() == 0);
    REQUIRE(foreign.load() == 0);
    std::size_t total = 0;
    for (int t = 0; t < thread_count; ++t) {
        Entries expected;
        for (const auto& [k, v] : models[static_cast<std::size_t>(t)]) expected.emplace_back(k, v);
        INFO("payer " << payer_of(t));
        REQUIRE(entries(store, payer_of(t)) == expected);
        total += expected.size();
    }
    REQUIRE(store.size() == total);
}
