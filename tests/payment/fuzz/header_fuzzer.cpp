// libFuzzer target for the x402 header decoders (clang only:
// -fsanitize=fuzzer,address,undefined; built and run by run_fuzzer.sh).
//
// The first input byte picks the decoder, the rest is its input:
//   0 X-PAYMENT, 1 PAYMENT-SIGNATURE (decode_payment_header),
//   2 PAYMENT-REQUIRED (decode_payment_required_header),
//   3 X-PAYMENT-RESPONSE / PAYMENT-RESPONSE (decode_payment_response_header),
//   4 MCP _meta["x402/payment"] (JSON text -> decode_mcp_payment),
//   5 base64 alone.
// Invariants, checked with __builtin_trap() so a violation is a crash:
//  - no decoder throws or crashes, whatever the input;
//  - whatever decodes re-encodes, and the encoding decodes to the same value;
//  - base64: a value that decodes is canonical (re-encodes to itself), and
//    every byte string survives encode + decode.
#include <x402/payment/headers.hpp>

#include "fuzz/selected_input.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace xp = x402::payment;

namespace {

void require(bool condition) {
    if (!condition) __builtin_trap();
}

void payment_round_trip(const xp::PaymentPayload& payment) {
    const std::string encoded = xp::encode_payment_header(payment);
    // An MCP payment may be as long as a header value is allowed to be, so
    // its base64 (4/3 as long) may not fit in a header: such a header is
    // refused, and that is right.
    if (encoded.size() <= xp::max_header_value_size) {
        const auto again = xp::decode_payment_header(
            payment.x402_version == 1 ? xp::header::x_payment : xp::header::payment_signature, encoded);
        require(again.has_value());
        require(xp::to_json(*again) == xp::to_json(payment));
    }
    const auto mcp = xp::decode_mcp_payment(xp::to_json(payment));
    require(mcp.has_value());
    require(xp::to_json(*mcp) == xp::to_json(payment));
}

void fuzz(std::uint8_t mode, std::string_view input) {
    switch (mode % 6) {
        case 0:
        case 1: {
            const auto payment = xp::decode_payment_header(mode % 6 == 0 ? xp::header::x_payment : xp::header::payment_signature, input);
            if (payment) payment_round_trip(*payment);
            else require(!payment.error().reason().empty());
            break;
        }
        case 2: {
            const auto required = xp::decode_payment_required_header(input);
            if (!required) break;
            const auto again = xp::decode_payment_required_header(xp::encode_payment_required_header(*required));
            require(again.has_value());
            require(xp::to_json(*again) == xp::to_json(*required));
            break;
        }
        case 3: {
            const auto settlement = xp::decode_payment_response_header(input);
            if (!settlement) break;
            const auto again = xp::decode_payment_response_header(xp::encode_payment_response_header(*settlement));
            require(again.has_value());
            require(xp::to_json(*again) == xp::to_json(*settlement));
            break;
        }
        case 4: {
            if (input.size() > xp::max_header_value_size) break;
            if (xp::detail::json_nesting_depth(input) > 64) break;  // the transport's parser bounds this
            const xp::json meta = xp::json::parse(input, nullptr, /*allow_exceptions=*/false);
            if (meta.is_discarded()) break;
            const auto payment = xp::decode_mcp_payment(meta);
            if (payment) payment_round_trip(*payment);
            break;
        }
        default: {
            const auto bytes = xp::base64_decode(input);
            if (bytes) require(xp::base64_encode(*bytes) == input);
            if (input.size() <= 3 * 4096) {
                const auto back = xp::base64_decode(xp::base64_encode(input));
                require(back.has_value() && *back == input);
            }
            break;
        }
    }
}

}  // namespace

// The decoders report errors as values, never by throwing.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return x402_fuzz::run_selected(data, size, fuzz);
}
