// Compile-fail check: this file must NOT compile.
//
// It defines a store that has get, set and list but no erase, and hands it to
// AnyStore, whose constructor is constrained by the Store concept.
// The build must fail with the concept's diagnostic naming the missing
// operation: g++ says "the required expression 'store.erase(payer, key)' is
// invalid", clang says "because 'store.erase(payer, key)' would be invalid".
// A test that compiles this file passes only when compiling fails with that
// message, so a Store concept that stopped requiring erase is caught.
#include <x402/session/any_store.hpp>

#include <memory>
#include <optional>
#include <string>

namespace {

struct NoEraseStore {
    x402::session::awaitable<std::optional<std::string>> get(std::string, std::string) { co_return std::nullopt; }
    x402::session::awaitable<void> set(std::string, std::string, std::string, x402::session::SetOptions) {
        co_return;
    }
    x402::session::awaitable<x402::session::ListResult> list(std::string, x402::session::ListOptions) {
        co_return x402::session::ListResult();
    }
    // no erase(payer, key)
};

}  // namespace

int main() {
    x402::session::AnyStore store(std::make_shared<NoEraseStore>());
    (void)store;
}
