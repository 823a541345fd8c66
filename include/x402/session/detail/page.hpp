// PageBuilder: fills one list page under PageLimits, the one place where the
// in-memory store and the staged (store + write set) view decide where a page
// ends. The Redis store decides the same in its list script.
#pragma once

#include <x402/session/detail/cursor.hpp>
#include <x402/session/store.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace x402::session::detail {

class PageBuilder {
public:
    /// A page of at most min(limit, limits.max_entries) entries (limit 0:
    /// limits.max_entries), ending before the byte cap.
    PageBuilder(const PageLimits& limits, std::size_t limit, bool keys_only) noexcept
        : max_entries_(limit == 0 ? limits.max_entries : std::min(limit, limits.max_entries)),
          max_bytes_(limits.max_bytes),
          keys_only_(keys_only) {}

    /// Whether one more entry of these sizes belongs in the page; once false,
    /// the page is full and another matching entry exists, so the caller
    /// calls finish_with_cursor(). The first entry always fits.
    bool fits(std::string_view key, std::size_t value_size) const noexcept {
        if (result_.entries.empty()) return true;
        if (result_.entries.size() >= max_entries_) return false;
        const std::size_t cost = key.size() + (keys_only_ ? 0 : value_size);
        return cost <= max_bytes_ - std::min(bytes_, max_bytes_);
    }

    /// Appends an entry that fits(); its value is dropped for keys_only.
    void add(std::string key, std::string value) {
        bytes_ += key.size() + (keys_only_ ? 0 : value.size());
        if (keys_only_) value.clear();
        result_.entries.emplace_back(std::move(key), std::move(value));
    }

    /// The page, with a cursor after its last entry: more entries exist.
    ListResult finish_with_cursor() && {
        result_.cursor = encode_cursor(result_.entries.back().key);
        return std::move(result_);
    }

    /// The page, the last one.
    ListResult finish() && { return std::move(result_); }

private:
    std::size_t max_entries_;
    std::size_t max_bytes_;
    bool keys_only_;
    std::size_t bytes_ = 0;
    ListResult result_;
};

}  // namespace x402::session::detail
