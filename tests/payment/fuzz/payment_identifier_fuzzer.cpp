// libFuzzer target for the payment-identifier extension
// (payment/payment_identifier.hpp): the id a client puts in its payment's
// `extensions["payment-identifier"].info.id`, which keys the payer's ledger
// record. Built and run by tests/fuzz/run_fuzzer.sh.
//
// The first input byte picks what the rest is:
//   0 an id alone (placed in an otherwise well-formed extension),
//   1 the JSON text of a payment's whole `extensions`,
//   2 a PAYMENT-SIGNATURE header value (base64 JSON of a payment),
//   3 MCP _meta["x402/payment"] JSON text.
// Invariants, checked with __builtin_trap() so a violation is a crash:
//  - nothing throws or crashes, whatever the input;
//  - an id is accepted exactly when it is 16-128 of [A-Za-z0-9_-] (checked
//    against a plain restatement of the rule), and it is returned unchanged;
//  - a malformed extension is refused with reason invalid_payment_identifier;
//  - the id survives the payment's own codecs (header and MCP): what the
//    server keys its record by is what a re-encoded payment carries;
//  - the payment's canonical JSON (the record's `payload`) dumps without
//    throwing, whatever bytes it holds.
#include <x402/payment/headers.hpp>
#include <x402/payment/payment_identifier.hpp>

#include "fuzz/selected_input.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xp = x402::payment;

namespace {

void require(bool condition) {
    if (!condition) __builtin_trap();
}

bool valid_by_rule(std::string_view id) {
    static constexpr std::string_view allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    return id.size() >= 16 && id.size() <= 128 && id.find_first_not_of(allowed) == std::string_view::npos;
}

/// The checks on one decoded payment.
void check(const xp::PaymentPayload& payment) {
    const auto id = xp::payment_identifier_of(payment);
    (void)xp::dump_json(xp::to_json(payment));
    if (!id) {
        require(id.error().reason() == xp::reason::invalid_payment_identifier);
        return;
    }
    if (*id) {
        require(valid_by_rule(**id));
        require(payment.extensions.at(std::string(xp::payment_identifier_extension)).at("info").at("id") == **id);
    }
    // Through the header codec and the MCP one: the same answer.
    const auto header = xp::decode_payment_header(payment.x402_version == 1 ? xp::header::x_payment
                                                                             : xp::header::payment_signature,
                                                  xp::encode_payment_header(payment));
    if (header) {
        const auto again = xp::payment_identifier_of(*header);
        require(again.has_value() && *again == *id);
    }
    const auto mcp = xp::decode_mcp_payment(xp::to_json(payment));
    if (mcp) {
        const auto again = xp::payment_identifier_of(*mcp);
        require(again.has_value() && *again == *id);
    }
}

xp::PaymentPayload sample_payment() {
    xp::PaymentPayload payment;
    payment.scheme = "exact";
    payment.network = "eip155:84532";
    payment.accepted = {{"scheme", "exact"}, {"network", "eip155:84532"}, {"amount", "1000"},
                        {"asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e"},
                        {"payTo", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}, {"maxTimeoutSeconds", 60}};
    payment.payload = {{"signature", "0x00"}, {"authorization", xp::json::object()}};
    return payment;
}

void fuzz(std::uint8_t mode, std::string_view input) {
    switch (mode % 4) {
        case 0: {
            xp::PaymentPayload payment = sample_payment();
            payment.extensions = {{std::string(xp::payment_identifier_extension), {{"info", {{"id", std::string(input)}}}}}};
            const auto id = xp::payment_identifier_of(payment);
            require(xp::is_valid_payment_identifier(input) == valid_by_rule(input));
            if (valid_by_rule(input)) require(id.has_value() && *id && **id == input);
            else require(!id.has_value() && id.error().reason() == xp::reason::invalid_payment_identifier);
            check(payment);
            break;
        }
        case 1: {
            if (input.size() > xp::max_header_value_size) break;
            if (xp::detail::json_nesting_depth(input) > 64) break;  // the transport's parsers bound this
            xp::PaymentPayload payment = sample_payment();
            payment.extensions = xp::json::parse(input, nullptr, /*allow_exceptions=*/false);
            if (payment.extensions.is_discarded()) break;
            check(payment);
            break;
        }
        case 2: {
            const auto payment = xp::decode_payment_header(xp::header::payment_signature, input);
            if (payment) check(*payment);
            break;
        }
        default: {
            if (input.size() > xp::max_header_value_size) break;
            if (xp::detail::json_nesting_depth(input) > 64) break;
            const xp::json meta = xp::json::parse(input, nullptr, /*allow_exceptions=*/false);
            if (meta.is_discarded()) break;
            const auto payment = xp::decode_mcp_payment(meta);
            if (payment) check(*payment);
            break;
        }
    }
}

}  // namespace

// The decoders report errors as values, never by throwing.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return x402_fuzz::run_selected(data, size, fuzz);
}
