// prometheus_text: an MCP server's counters, its payment hook's and its
// in-memory store's, as one Prometheus metrics page; the counters a server
// operator expects (requests, refusals by reason, verifications,
// settlements, commits, evictions, open connections and sessions). Each
// piece stays readable on its own: Server::http_metrics(),
// PaymentHook::metrics(), InMemoryStore::evictions().
//
//     routes.add(GET /metrics -> x402::mcp::prometheus_text(server, &hook.metrics(), &store));
#pragma once

#include <x402/http/prometheus.hpp>
#include <x402/mcp/server.hpp>
#include <x402/payment/metrics.hpp>
#include <x402/session/any_store.hpp>
#include <x402/session/in_memory_store.hpp>

#include <string>

namespace x402::mcp {

/// The page; `payments` null: no payment counters; a `store` that is not an
/// InMemoryStore adds no store counters (a Redis reports its own).
inline std::string prometheus_text(const Server& server, const payment::PaymentMetrics* payments,
                                   const session::AnyStore* store) {
    http::PrometheusText page;
    const http::ServerMetrics& http = server.http_metrics();
    page.gauge("x402_http_connections_open", "Connections open now.", server.connections())
        .counter("x402_http_connections_accepted_total", "Connections accepted.", http.connections_accepted)
        .counter("x402_http_connections_refused_total", "Connections refused beyond max_connections.",
                 http.connections_refused)
        .counter("x402_http_connections_timed_out_total", "Connections closed by a read or write deadline.",
                 http.connections_timed_out)
        .counter("x402_http_requests_total", "Requests read whole.", http.requests)
        .counter("x402_http_requests_malformed_total", "Requests refused unread: malformed or too large.",
                 http.requests_malformed);
    http::PrometheusText::Labelled by_class;
    for (unsigned cls = 1; cls <= 5; ++cls)
        by_class.emplace_back(std::to_string(cls) + "xx", http.responses_by_class[cls].load());
    page.counter("x402_http_responses_total", "Answers by status class.", "class", by_class);
    page.gauge("x402_mcp_sessions_open", "MCP sessions open now.", server.session_count());
    if (payments != nullptr) {
        page.counter("x402_payment_requests_total", "Requests to priced tools and routes.", payments->paid_requests)
            .counter("x402_payment_served_total", "Served: the handler ran and the payment settled.", payments->served)
            .counter("x402_payment_replayed_total", "Served from a payment identifier's record.", payments->replayed)
            .counter("x402_payment_not_charged_total", "Failed results, not charged.", payments->not_charged)
            .counter("x402_payment_errors_total", "Priced requests that ended in an exception.", payments->errors);
        http::PrometheusText::Labelled refusals;
        for (const auto& [reason, count] : payments->refusals()) refusals.emplace_back(reason, count);
        page.counter("x402_payment_refusals_total", "Refused requests by x402 reason.", "reason", refusals)
            .counter("x402_payment_verifications_total", "Calls to the verifier.", payments->verifications)
            .counter("x402_payment_verifications_failed_total", "Verifications that did not accept the payment.",
                     payments->verifications_failed)
            .counter("x402_payment_settlements_total", "Calls to the settler.", payments->settlements)
            .counter("x402_payment_settlements_failed_total", "Settlements that did not settle.",
                     payments->settlements_failed)
            .counter("x402_payment_commits_total", "Paid requests whose writes went to the store.", payments->commits)
            .counter("x402_payment_commits_failed_total", "Of those, the commits the store refused.",
                     payments->commits_failed);
    }
    if (store != nullptr) {
        if (const auto* memory = store->target<session::InMemoryStore>()) {
            page.gauge("x402_store_entries", "Entries held (in memory).", memory->size())
                .gauge("x402_store_bytes", "Payer + key + value bytes held (in memory).", memory->bytes())
                .counter("x402_store_evictions_total", "Live entries evicted to make room (in memory).",
                         memory->evictions());
        }
    }
    return page.str();
}

}  // namespace x402::mcp
