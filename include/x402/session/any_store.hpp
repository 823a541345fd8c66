// AnyStore: a type-erased, shared handle to any Store, so the store can be
// chosen at run time (the default in-memory one, Redis, or the user's own).
#pragma once

#include <x402/session/detail/batch_fallback.hpp>
#include <x402/session/store.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
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

    /// The store's caps on a `list` page (StoreWithPageLimits), or for a store
    /// without them the PageLimits{} defaults, of which the handle enforces
    /// max_entries (it clamps each `list` call's limit) but not max_bytes (it
    /// could not make such a store's cursor for a shorter page).
    PageLimits page_limits() const noexcept { return impl_->page_limits(); }

    /// Whether the store has an atomic `apply` (StoreWithApply).
    bool has_apply() const noexcept { return impl_->has_apply(); }

    /// The store's own atomic `apply`. There is no fallback: a store without
    /// one throws std::logic_error("store has no atomic apply") when awaited.
    awaitable<void> apply(std::string payer, std::vector<Write> writes) const {
        return impl_->apply(std::move(payer), std::move(writes));
    }

    /// Whether the store keeps a ledger (StoreWithLedger).
    bool has_ledger() const noexcept { return impl_->has_ledger(); }

    /// The store's ledger record (see LedgerWrite). A store without a ledger
    /// throws std::logic_error("store has no ledger") when awaited.
    awaitable<std::optional<std::string>> get_ledger(std::string payer, std::string key) const {
        return impl_->get_ledger(std::move(payer), std::move(key));
    }

    /// NOT atomic: the writes one by one with `set` and `erase`, for a store
    /// without `apply` whose user accepts that a failure or a concurrent
    /// reader can see a part of them. Rejects a negative TTL, and any
    /// LedgerWrite (std::logic_error("a ledger write needs an atomic apply"):
    /// a record must commit with the writes it accounts for), before the
    /// first write.
    awaitable<void> apply_sequentially(std::string payer, std::vector<Write> writes) const {
        return apply_sequentially_in(impl_, std::move(payer), std::move(writes));
    }

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
        virtual PageLimits page_limits() const noexcept = 0;
        virtual bool has_apply() const noexcept = 0;
        virtual awaitable<void> apply(std::string, std::vector<Write>) = 0;
        virtual bool has_ledger() const noexcept = 0;
        virtual awaitable<std::optional<std::string>> get_ledger(std::string, std::string) = 0;
    };

    static awaitable<void> apply_sequentially_in(std::shared_ptr<Interface> impl, std::string payer,
                                                 std::vector<Write> writes) {
        for (const auto& write : writes) {
            if (is_ledger_write(write)) throw std::logic_error("a ledger write needs an atomic apply");
            const auto* set = std::get_if<SetWrite>(&write);
            if (set != nullptr && set->options.ttl && set->options.ttl->count() < 0) {
                throw std::invalid_argument("ttl must be >= 0");
            }
        }
        for (auto& write : writes) {
            if (auto* set = std::get_if<SetWrite>(&write)) {
                co_await impl->set(payer, std::move(set->key), std::move(set->value), set->options);
            } else {
                co_await impl->erase(payer, std::move(std::get<EraseWrite>(write).key));
            }
        }
    }

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
            if constexpr (!StoreWithPageLimits<S>) {
                const std::size_t cap = PageLimits{}.max_entries;
                if (options.limit == 0 || options.limit > cap) options.limit = cap;
            }
            return store->list(std::move(payer), std::move(options));
        }
        PageLimits page_limits() const noexcept override {
            if constexpr (StoreWithPageLimits<S>) {
                return store->page_limits();
            } else {
                return PageLimits{};
            }
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
        bool has_apply() const noexcept override { return StoreWithApply<S>; }
        awaitable<void> apply(std::string payer, std::vector<Write> writes) override {
            if constexpr (StoreWithApply<S>) {
                return store->apply(std::move(payer), std::move(writes));
            } else {
                return refuse_apply();
            }
        }
        static awaitable<void> refuse_apply() {
            throw std::logic_error("store has no atomic apply");
            co_return;
        }
        bool has_ledger() const noexcept override { return StoreWithLedger<S>; }
        awaitable<std::optional<std::string>> get_ledger(std::string payer, std::string key) override {
            if constexpr (StoreWithLedger<S>) {
                return store->get_ledger(std::move(payer), std::move(key));
            } else {
                return refuse_ledger();
            }
        }
        static awaitable<std::optional<std::string>> refuse_ledger() {
            throw std::logic_error("store has no ledger");
            co_return std::nullopt;
        }

        std::shared_ptr<S> store;
    };

    std::shared_ptr<Interface> impl_;
};

static_assert(StoreWithGetMany<AnyStore> && StoreWithSetMany<AnyStore> && StoreWithEraseMany<AnyStore> &&
              StoreWithClose<AnyStore> && StoreWithApply<AnyStore> && StoreWithLedger<AnyStore> &&
              StoreWithPageLimits<AnyStore>);

}  // namespace x402::session
