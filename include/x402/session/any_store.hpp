// AnyStore: a type-erased, shared handle to any Store, so the store can be
// chosen at run time (the default in-memory one, Redis, or the user's own).
#pragma once

#include <x402/session/detail/batch_fallback.hpp>
#include <x402/session/store.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace x402::session {

/// A copyable handle sharing ownership of one store. It offers every
/// operation, optional ones included: where the store lacks a batch
/// operation, the handle runs the single-key operation for each key in turn
/// (not atomically); where it lacks `close`, closing does nothing.
///
/// The store must outlive every awaitable the handle returned until that
/// awaitable completes; holding the handle (or a Session) keeps it alive.
///
///     auto store = x402::session::AnyStore::make<x402::session::InMemoryStore>();
///     co_await store.set("0xabc...", "k", "v", {});
class AnyStore {
public:
    /// Shares ownership of `store`. Precondition: `store` is not null.
    template <Store S>
    explicit AnyStore(std::shared_ptr<S> store) : impl_(std::make_shared<Model<S>>(std::move(store))) {}

    /// Constructs an `S` from `args` and wraps it.
    template <Store S, class... Args>
    static AnyStore make(Args&&... args) {
        return AnyStore(std::make_shared<S>(std::forward<Args>(args)...));
    }

    awaitable<std::optional<std::string>> get(std::string payer, std::string key) const {
        return impl_->get(std::move(payer), std::move(key));
    }
    awaitable<void> set(std::string payer, std::string key, std::string value, SetOptions options) const {
        return impl_->set(std::move(payer), std::move(key), std::move(value), options);
    }
    awaitable<bool> erase(std::string payer, std::string key) const {
        return impl_->erase(std::move(payer), std::move(key));
    }
    awaitable<ListResult> list(std::string payer, ListOptions options) const {
        return impl_->list(std::move(payer), std::move(options));
    }
    awaitable<std::vector<std::optional<std::string>>> get_many(std::string payer,
                                                                std::vector<std::string> keys) const {
        return impl_->get_many(std::move(payer), std::move(keys));
    }
    awaitable<void> set_many(std::string payer, std::vector<Entry> entries, SetOptions options) const {
        return impl_->set_many(std::move(payer), std::move(entries), options);
    }
    awaitable<std::size_t> erase_many(std::string payer, std::vector<std::string> keys) const {
        return impl_->erase_many(std::move(payer), std::move(keys));
    }
    awaitable<void> close() const { return impl_->close(); }

    /// The wrapped store if it is an `S`, else nullptr (like std::any_cast).
    template <class S>
    S* target() const noexcept {
        auto* model = dynamic_cast<Model<S>*>(impl_.get());
        return model != nullptr ? model->store.get() : nullptr;
    }

private:
    struct Interface {
        virtual ~Interface() = default;
        virtual awaitable<std::optional<std::string>> get(std::string, std::string) = 0;
        virtual awaitable<void> set(std::string, std::string, std::string, SetOptions) = 0;
        virtual awaitable<bool> erase(std::string, std::string) = 0;
        virtual awaitable<ListResult> list(std::string, ListOptions) = 0;
        virtual awaitable<std::vector<std::optional<std::string>>> get_many(std::string,
                                                                            std::vector<std::string>) = 0;
        virtual awaitable<void> set_many(std::string, std::vector<Entry>, SetOptions) = 0;
        virtual awaitable<std::size_t> erase_many(std::string, std::vector<std::string>) = 0;
        virtual awaitable<void> close() = 0;
    };

    template <Store S>
    struct Model final : Interface {
        explicit Model(std::shared_ptr<S> s) : store(std::move(s)) {}

        awaitable<std::optional<std::string>> get(std::string payer, std::string key) override {
            return store->get(std::move(payer), std::move(key));
        }
        awaitable<void> set(std::string payer, std::string key, std::string value,
                            SetOptions options) override {
            return store->set(std::move(payer), std::move(key), std::move(value), options);
        }
        awaitable<bool> erase(std::string payer, std::string key) override {
            return store->erase(std::move(payer), std::move(key));
        }
        awaitable<ListResult> list(std::string payer, ListOptions options) override {
            return store->list(std::move(payer), std::move(options));
        }
        awaitable<std::vector<std::optional<std::string>>> get_many(std::string payer,
                                                                    std::vector<std::string> keys) override {
            return detail::get_many(*store, std::move(payer), std::move(keys));
        }
        awaitable<void> set_many(std::string payer, std::vector<Entry> entries, SetOptions options) override {
            return detail::set_many(*store, std::move(payer), std::move(entries), options);
        }
        awaitable<std::size_t> erase_many(std::string payer, std::vector<std::string> keys) override {
            return detail::erase_many(*store, std::move(payer), std::move(keys));
        }
        awaitable<void> close() override { return detail::close(*store); }

        std::shared_ptr<S> store;
    };

    std::shared_ptr<Interface> impl_;
};

static_assert(StoreWithGetMany<AnyStore> && StoreWithSetMany<AnyStore> && StoreWithEraseMany<AnyStore> &&
              StoreWithClose<AnyStore>);

}  // namespace x402::session
