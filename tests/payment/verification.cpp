// x402 payments without the hook: codecs, requirement matching, the
// LocalVerifier against the shared vectors and mutations of them, and the
// replay guard.
#include <x402/payment/local_verifier.hpp>

#include <x402/payment.hpp>

#include "vectors.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace xp = x402::payment;
namespace reason = x402::payment::reason;
using xp::json;
using x402_test::decoded;
using x402_test::vector;
using x402_test::verdict_of;

namespace {

/// n - s on secp256k1 (32 big-endian bytes), for making a high-s twin of a signature.
std::string negate_s_hex(const std::string& signature_hex) {
    static constexpr std::uint8_t order[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                               0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48,
                                               0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
    auto bytes = xp::detail::parse_hex_bytes(signature_hex).value();
    int borrow = 0;
    for (int i = 31; i >= 0; --i) {
        int difference = order[i] - bytes[32 + i] - borrow;
        borrow = difference < 0 ? 1 : 0;
        bytes[32 + i] = static_cast<std::uint8_t>(difference + (borrow ? 256 : 0));
    }
    bytes[64] = bytes[64] == 27 ? 28 : 27;  // the other root
    return xp::detail::to_hex(bytes);
}

std::string set_signature_byte(const std::string& signature_hex, std::size_t index, std::uint8_t value) {
    auto bytes = xp::detail::parse_hex_bytes(signature_hex).value();
    bytes.at(index) = value;
    return xp::detail::to_hex(bytes);
}

json& authorization(json& payment) { return payment["payload"]["authorization"]; }
json& signature(json& payment) { return payment["payload"]["signature"]; }

}  // namespace

// ---------------------------------------------------------------- vectors

TEST_CASE("vectors: every shared vector gives its offline verdict", "[x402][vectors]") {
    const json& vectors = x402_test::vectors_file().at("vectors");
    REQUIRE(vectors.size() >= 8);
    for (const json& v : vectors) {
        const std::string id = v.at("id").get<std::string>();
        DYNAMIC_SECTION(id) {
            const auto requirements = x402_test::requirements(id);
            const xp::VerifyResponse got =
                x402_test::verdict(v.at("headerName").get<std::string>(), v.at("headerValue").get<std::string>(),
                                   requirements, x402_test::verify_at(id));
            const json& expected = v.at("expectedOffline");
            CHECK(got.is_valid == expected.at("valid").get<bool>());
            CHECK(json(got.invalid_reason ? json(*got.invalid_reason) : json(nullptr)) == expected.at("reason"));
            CHECK(json(got.payer ? json(*got.payer) : json(nullptr)) == expected.at("payer"));
        }
    }
}

TEST_CASE("vectors: domain separator and struct hash and digest match the recorded EIP-712 values",
          "[x402][vectors][eip712]") {
    using namespace xp::detail;
    for (const json& v : x402_test::vectors_file().at("vectors")) {
        if (v.at("eip712").is_null()) continue;
        DYNAMIC_SECTION(v.at("id").get<std::string>()) {
            const json& e = v.at("eip712");
            const json& d = e.at("domain");
            const json& m = e.at("message");
            Eip712Domain domain{d.at("name").get<std::string>(), d.at("version").get<std::string>(),
                                d.at("chainId").get<std::uint64_t>(),
                                *parse_address_syntax(d.at("verifyingContract").get<std::string>())};
            TransferWithAuthorization message{*parse_address_syntax(m.at("from").get<std::string>()),
                                              *parse_address_syntax(m.at("to").get<std::string>()),
                                              *parse_uint256_decimal(m.at("value").get<std::string>()),
                                              *parse_uint256_decimal(m.at("validAfter").get<std::string>()),
                                              *parse_uint256_decimal(m.at("validBefore").get<std::string>()),
                                              *parse_hex_fixed<32>(m.at("nonce").get<std::string>())};
            const Bytes32 separator = domain_separator(domain);
            const Bytes32 hash = struct_hash(message);
            CHECK(to_hex(separator) == e.at("domainSeparator").get<std::string>());
            CHECK(to_hex(hash) == e.at("structHash").get<std::string>());
            CHECK(to_hex(eip712_digest(separator, hash)) == e.at("digest").get<std::string>());
        }
    }
}

TEST_CASE("keccak256: known answers and the type hashes", "[x402][crypto]") {
    using namespace xp::detail;
    const json& constants = x402_test::vectors_file().at("constants");
    CHECK(to_hex(keccak256(std::string_view(""))) == constants.at("keccak256").at("").get<std::string>());
    CHECK(to_hex(keccak256(std::string_view("abc"))) == constants.at("keccak256").at("abc").get<std::string>());
    CHECK(to_hex(keccak256(transfer_with_authorization_type)) ==
          constants.at("transferWithAuthorizationTypeHash").get<std::string>());
    CHECK(to_hex(keccak256(eip712_domain_type)) == constants.at("eip712DomainTypeHash").get<std::string>());
    // Not SHA3-256 (FIPS padding), whose "" digest starts a7ffc6f8.
    CHECK(to_hex(keccak256(std::string_view(""))).rfind("0xa7ffc6f8", 0) == std::string::npos);
}

TEST_CASE("address: of the payer public key and EIP-55 spellings", "[x402][crypto][eip55]") {
    using namespace xp::detail;
    const json& file = x402_test::vectors_file();
    const auto key = parse_hex_fixed<65>(file.at("constants").at("payerPublicKeyUncompressed").get<std::string>()).value();
    std::array<std::uint8_t, 64> xy{};
    std::copy(key.begin() + 1, key.end(), xy.begin());
    CHECK(eip55_checksum(address_of_public_key(xy)) == file.at("parties").at("payer").at("address").get<std::string>());

    // The examples of EIP-55 itself.
    for (const std::string spelled : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                                      "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                                      "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
                                      "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
        const Address address = parse_address_syntax(spelled).value();
        CHECK(eip55_checksum(address) == spelled);
        CHECK(passes_eip55(spelled, address));
        CHECK(passes_eip55(ascii_lower(spelled), address));
    }
    const std::string good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    const std::string bad = "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";  // one letter's case flipped
    CHECK_FALSE(passes_eip55(bad, parse_address_syntax(bad).value()));
    // viem's strict isAddress, applied by the facilitator: all upper case is not a checksum.
    const std::string upper = "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED";
    CHECK_FALSE(passes_eip55(upper, parse_address_syntax(upper).value()));
    CHECK_FALSE(parse_address_syntax("0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
    CHECK_FALSE(parse_address_syntax("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"));
    CHECK_FALSE(parse_address_syntax("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"));
}

// ---------------------------------------------------------------- base64

TEST_CASE("base64: round trips every length and the RFC 4648 examples", "[x402][base64]") {
    const std::vector<std::pair<std::string, std::string>> rfc = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : rfc) {
        CHECK(xp::base64_encode(plain) == encoded);
        CHECK(xp::base64_decode(encoded).value() == plain);
    }
    std::string bytes;
    for (int i = 0; i < 300; ++i) {
        bytes += static_cast<char>(i * 37);
        CHECK(xp::base64_decode(xp::base64_encode(bytes)).value() == bytes);
    }
}

TEST_CASE("base64: refuses everything but canonical standard base64", "[x402][base64]") {
    const auto error_of = [](std::string_view text) {
        auto decoded = xp::base64_decode(text);
        REQUIRE_FALSE(decoded);
        CHECK(decoded.error().reason() == "invalid_payload");
        return decoded.error().message();
    };
    CHECK(error_of("Zg") == "base64: length is not a multiple of 4");               // padding missing
    CHECK(error_of("Zm9v\n") == "base64: length is not a multiple of 4");
    CHECK(error_of("Zm 9") == "base64: invalid character");                          // whitespace
    CHECK(error_of("Zm9v Zm8=") == "base64: length is not a multiple of 4");
    CHECK(error_of("Zm9vYm-_") == "base64: invalid character");                      // base64url
    CHECK(error_of("Zm9vYmE\xC3") == "base64: invalid character");
    CHECK(error_of("Zh==") == "base64: non-canonical padding bits");                 // "f" with a stray bit
    CHECK(error_of("Zm9=") == "base64: non-canonical padding bits");
    CHECK(error_of("Zg=a") == "base64: misplaced padding");
    CHECK(error_of("Z===") == "base64: misplaced padding");
    CHECK(error_of("Zg==Zg==") == "base64: misplaced padding");
    CHECK(error_of("====") == "base64: misplaced padding");
    CHECK(error_of(std::string(xp::max_header_value_size + 4, 'A')) == "base64: value longer than 16384 bytes");
    CHECK(xp::base64_decode(std::string(xp::max_header_value_size, 'A')).has_value());
}

// ---------------------------------------------------------------- headers and types

TEST_CASE("headers: malformed payments give typed errors", "[x402][headers]") {
    const auto error_of = [](std::string_view name, const std::string& value) {
        auto decoded = xp::decode_payment_header(name, value);
        REQUIRE_FALSE(decoded);
        return decoded.error();
    };
    const std::string v2 = vector("v2-valid").at("headerValue");
    const std::string v1 = vector("v1-valid-legacy-client").at("headerValue");
    CHECK(xp::decode_payment_header("payment-signature", v2).has_value());  // names are case-insensitive
    CHECK(xp::decode_payment_header("PAYMENT-SIGNATURE", v1).has_value());  // v1 allowed there
    CHECK(error_of("X-PAYMENT", v2) == xp::Error(reason::invalid_x402_version,
                                                      "payment: X-PAYMENT carries x402Version 1 only"));
    CHECK(error_of("PAYMENT-REQUIRED", v2) ==
          xp::Error(reason::invalid_payload, "payment: PAYMENT-REQUIRED is not a payment header"));
    const std::string json_text = xp::base64_decode(v2).value();
    CHECK(error_of("PAYMENT-SIGNATURE", xp::base64_encode(json_text.substr(0, json_text.size() / 2))) ==
          xp::Error(reason::invalid_payload, "json: not valid JSON"));
    CHECK(error_of("PAYMENT-SIGNATURE", xp::base64_encode("[1,2]")) ==
          xp::Error(reason::invalid_payload, "json: not an object"));
    CHECK(error_of("PAYMENT-SIGNATURE", xp::base64_encode(std::string(20, '[') + std::string(20, ']'))) ==
          xp::Error(reason::invalid_payload, "json: nested deeper than 16 levels"));
    CHECK(error_of("PAYMENT-SIGNATURE", xp::base64_encode("{\"x402Version\":3,\"payload\":{}}")) ==
          xp::Error(reason::invalid_x402_version, "payment: x402Version is not 1 or 2"));
    CHECK(error_of("PAYMENT-SIGNATURE", xp::base64_encode("{\"x402Version\":\"2\",\"payload\":{}}")).reason() ==
          "invalid_x402_version");
    CHECK(error_of("PAYMENT-SIGNATURE", xp::base64_encode("{\"x402Version\":2,\"payload\":{}}")) ==
          xp::Error(reason::invalid_payload, "payment: accepted: missing or not an object"));
    CHECK(error_of("PAYMENT-SIGNATURE", xp::base64_encode("{\"x402Version\":1,\"payload\":[]}")) ==
          xp::Error(reason::invalid_payload, "payment: payload: missing or not an object"));
    CHECK(error_of("X-PAYMENT", xp::base64_encode("{\"x402Version\":1,\"scheme\":\"exact\",\"payload\":{}}")) ==
          xp::Error(reason::invalid_payload, "payment: network: missing or not a string"));
    CHECK(error_of("PAYMENT-SIGNATURE", xp::base64_encode("{\"a\":\"\xFF\"}")) ==
          xp::Error(reason::invalid_payload, "json: not valid JSON"));  // not UTF-8
    // MCP: the object itself, same rules.
    CHECK(xp::decode_mcp_payment(decoded("v2-valid")).has_value());
    json deep = json::object();
    for (int i = 0; i < 20; ++i) deep = json{{"x", deep}};
    CHECK(xp::decode_mcp_payment(deep).error().message() == "json: nested deeper than 16 levels");
}

TEST_CASE("types: payments and requirements and 402s and receipts survive encoding", "[x402][types]") {
    for (const char* id : {"v1-valid-legacy-client", "v2-valid"}) {
        const json& v = vector(id);
        auto payment = xp::decode_payment_header(v.at("headerName").get<std::string>(),
                                                      v.at("headerValue").get<std::string>())
                           .value();
        CHECK(xp::to_json(payment) == v.at("decodedPayload"));
        CHECK(xp::decode_payment_header(v.at("headerName").get<std::string>(),
                                             xp::encode_payment_header(payment))
                  .has_value());
        auto required = xp::parse_payment_required(v.at("paymentRequired")).value();
        CHECK(xp::to_json(required) == v.at("paymentRequired"));
        CHECK(xp::to_json(required.accepts.at(0), required.x402_version) == v.at("requirements"));
        auto again = xp::decode_payment_required_header(xp::encode_payment_required_header(required));
        CHECK(xp::to_json(again.value()) == v.at("paymentRequired"));
    }
    CHECK(xp::parse_payment_requirements(json{{"scheme", "exact"}}).error() ==
          xp::Error(reason::invalid_payment_requirements, "requirements: network: missing or not a string"));

    xp::SettleResponse settled;
    settled.success = true;
    settled.payer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    settled.transaction = "0xabc";
    settled.network = "eip155:84532";
    const json settled_json = xp::to_json(settled);
    CHECK(settled_json == json::parse(R"({"success":true,"payer":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",)"
                                      R"("transaction":"0xabc","network":"eip155:84532"})"));
    CHECK(xp::to_json(xp::decode_payment_response_header(xp::encode_payment_response_header(settled))
                               .value()) == settled_json);
    CHECK(xp::parse_settle_response(json{{"transaction", ""}}).error().reason() == "unexpected_settle_error");

    auto verify = xp::parse_verify_response(json::parse(
                                                     R"({"isValid":false,"invalidReason":"invalid_exact_evm_signature","payer":"0xabc"})"))
                      .value();
    CHECK_FALSE(verify.is_valid);
    CHECK(verify.invalid_reason == "invalid_exact_evm_signature");
    CHECK(xp::to_json(verify) ==
          json::parse(R"({"isValid":false,"invalidReason":"invalid_exact_evm_signature","payer":"0xabc"})"));
    CHECK(xp::parse_verify_response(json{{"isValid", "true"}}).error().reason() == "unexpected_verify_error");
    CHECK(xp::payment_response_header_name(1) == "X-PAYMENT-RESPONSE");
    CHECK(xp::payment_response_header_name(2) == "PAYMENT-RESPONSE");
}

TEST_CASE("networks: v1 names and CAIP-2 identifiers", "[x402][networks]") {
    CHECK(xp::evm_chain_id("base-sepolia") == 84532u);
    CHECK(xp::evm_chain_id("stable-testnet") == 2201u);
    CHECK(xp::evm_chain_id("eip155:84532") == 84532u);
    CHECK(xp::caip2_evm_chain_id("base-sepolia") == std::nullopt);
    CHECK(xp::v1_evm_chain_id("eip155:8453") == std::nullopt);
    CHECK(xp::evm_chain_id("eip155:") == std::nullopt);
    CHECK(xp::evm_chain_id("eip155:0123") == std::nullopt);
    CHECK(xp::evm_chain_id("eip155:-1") == std::nullopt);
    CHECK(xp::evm_chain_id("solana:devnet") == std::nullopt);
}

// ---------------------------------------------------------------- matching

TEST_CASE("matching: v1 compares scheme and network only", "[x402][matching]") {
    auto payment = xp::parse_payment_payload(decoded("v1-valid-legacy-client")).value();
    auto exact = x402_test::requirements("v1-valid-legacy-client");
    auto other_price = exact;
    other_price.amount = "5";
    other_price.pay_to = "0x0000000000000000000000000000000000000001";
    auto mainnet = exact;
    mainnet.network = "base";
    auto upto = exact;
    upto.scheme = "upto";
    const std::vector<xp::PaymentRequirements> advertised{upto, mainnet, other_price, exact};
    CHECK(xp::find_matching_requirements(advertised, payment) == 2u);
    CHECK(xp::find_matching_requirements(std::vector{upto, mainnet}, payment) == std::nullopt);
}

TEST_CASE("matching: v2 needs accepted to equal an advertised requirement", "[x402][matching]") {
    const json original = decoded("v2-valid");
    const auto advertised = x402_test::requirements("v2-valid");
    const auto match = [&](const json& payment_json, const xp::PaymentRequirements& r) {
        auto payment = xp::parse_payment_payload(payment_json).value();
        return xp::find_matching_requirements(std::vector{r}, payment).has_value();
    };
    CHECK(match(original, advertised));
    json changed = original;
    changed["accepted"]["amount"] = "999";
    CHECK_FALSE(match(changed, advertised));
    changed = original;
    changed["accepted"]["payTo"] = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    CHECK_FALSE(match(changed, advertised));
    changed = original;
    changed["accepted"]["maxTimeoutSeconds"] = 61;
    CHECK_FALSE(match(changed, advertised));
    changed = original;
    changed["accepted"]["surprise"] = true;  // a field the server did not advertise
    CHECK_FALSE(match(changed, advertised));
    changed = original;
    changed["accepted"]["extra"]["assetTransferMethod"] = "eip3009";  // extra may grow (2.27.0)
    CHECK(match(changed, advertised));
    changed = original;
    changed["accepted"]["extra"]["version"] = "1";  // but not change
    CHECK_FALSE(match(changed, advertised));
    changed = original;
    changed["accepted"].erase("extra");
    CHECK_FALSE(match(changed, advertised));
    changed = original;
    changed["accepted"]["asset"] = xp::detail::ascii_lower(changed["accepted"]["asset"].get<std::string>());
    CHECK_FALSE(match(changed, advertised));  // deep equality is byte equality, as upstream
}

// ---------------------------------------------------------------- LocalVerifier

TEST_CASE("local verifier: lower-case from is the same signer and the payer as sent", "[x402][local]") {
    json payment = decoded("v2-valid");
    const std::string lower = xp::detail::ascii_lower(authorization(payment)["from"].get<std::string>());
    authorization(payment)["from"] = lower;
    const auto got = verdict_of("v2-valid", payment);
    CHECK(got.is_valid);
    CHECK(got.payer == lower);
}

TEST_CASE("local verifier: forged and non-canonical signatures are refused", "[x402][local][signature]") {
    const auto refused_with = [](const json& payment, std::string_view message) {
        const auto got = verdict_of("v2-valid", payment);
        CHECK_FALSE(got.is_valid);
        CHECK(got.invalid_reason == std::string(reason::invalid_exact_evm_signature));
        CHECK(got.invalid_message == std::string(message));
    };
    const json original = decoded("v2-valid");
    const std::string sig = original["payload"]["signature"];

    SECTION("impersonation: from changed to another account") {
        json payment = original;
        authorization(payment)["from"] = x402_test::vectors_file()["parties"]["attacker"]["address"];
        refused_with(payment, "payload.signature: not signed by authorization.from");
    }
    SECTION("high s with the other recovery id recovers the payer but is refused") {
        json payment = original;
        signature(payment) = negate_s_hex(sig);
        refused_with(payment, "payload.signature: s is not canonical (high s)");
        // The mutation is a real signature of the same digest by the payer: only the rule refuses it.
        using namespace xp::detail;
        const auto high = parse_hex_bytes(signature(payment).get<std::string>()).value();
        std::array<std::uint8_t, 64> r_s{};
        std::copy(high.begin(), high.begin() + 64, r_s.begin());
        const auto digest = parse_hex_fixed<32>(vector("v2-valid")["eip712"]["digest"].get<std::string>()).value();
        const auto key = recover_public_key(digest, r_s, high[64] - 27);
        REQUIRE(key);
        CHECK(eip55_checksum(address_of_public_key(*key)) == authorization(payment)["from"].get<std::string>());
    }
    SECTION("v as a parity byte 0 or 1") {
        json payment = original;
        auto bytes = xp::detail::parse_hex_bytes(sig).value();
        signature(payment) = set_signature_byte(sig, 64, static_cast<std::uint8_t>(bytes[64] - 27));
        refused_with(payment, "payload.signature: v is not 27 or 28");
        signature(payment) = set_signature_byte(sig, 64, 29);
        refused_with(payment, "payload.signature: v is not 27 or 28");
    }
    SECTION("v flipped to the other root recovers someone else") {
        json payment = original;
        auto bytes = xp::detail::parse_hex_bytes(sig).value();
        signature(payment) = set_signature_byte(sig, 64, bytes[64] == 27 ? 28 : 27);
        refused_with(payment, "payload.signature: not signed by authorization.from");
    }
    SECTION("r of zero recovers no key") {
        json payment = original;
        std::string zero_r = sig;
        for (std::size_t i = 2; i < 66; ++i) zero_r[i] = '0';
        signature(payment) = zero_r;
        refused_with(payment, "payload.signature: not signed by authorization.from");
    }
    SECTION("64 bytes") {
        json payment = original;
        signature(payment) = sig.substr(0, sig.size() - 2);
        refused_with(payment, "payload.signature: not 65 bytes");
    }
    SECTION("mixed-case from with a bad EIP-55 checksum") {
        json payment = original;
        std::string from = authorization(payment)["from"];
        for (std::size_t i = 2; i < from.size(); ++i) {
            if (from[i] >= 'a' && from[i] <= 'f') {
                from[i] = static_cast<char>(from[i] - 'a' + 'A');
                break;
            }
        }
        authorization(payment)["from"] = from;
        refused_with(payment, "payload.authorization.from: bad EIP-55 checksum");
    }
    SECTION("zero address as from") {
        json payment = original;
        authorization(payment)["from"] = "0x0000000000000000000000000000000000000000";
        refused_with(payment, "payload.authorization.from: the zero address");
    }
}

TEST_CASE("local verifier: signed fields are bound by the signature", "[x402][local][tampering]") {
    const json original = decoded("v2-valid");
    const auto tampered = [&](const char* field, const json& value) {
        json payment = original;
        authorization(payment)[field] = value;
        return verdict_of("v2-valid", payment);
    };
    for (const auto& [field, value] : std::vector<std::pair<const char*, json>>{
             {"value", "1000000"},
             {"to", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"},
             {"validBefore", "1767229999"},
             {"validAfter", "1"},
             {"nonce", "0x0000000000000000000000000000000000000000000000000000000000000001"}}) {
        DYNAMIC_SECTION(field) {
            const auto got = tampered(field, value);
            CHECK_FALSE(got.is_valid);
            CHECK(got.invalid_reason == std::string(reason::invalid_exact_evm_signature));
        }
    }
}

TEST_CASE("local verifier: requirement rules give their exact reasons", "[x402][local][rules]") {
    const std::string header = vector("v2-valid").at("headerValue");
    const std::string v1_header = vector("v1-valid-legacy-client").at("headerValue");
    const std::uint64_t now = x402_test::verify_at("v2-valid");
    const auto v2 = [&](const xp::PaymentRequirements& r, std::uint64_t at) {
        return x402_test::verdict("PAYMENT-SIGNATURE", header, r, at);
    };
    const auto reason_of = [](const xp::VerifyResponse& response) {
        return response.is_valid ? std::string("valid") : response.invalid_reason.value_or("?");
    };
    const auto base = x402_test::requirements("v2-valid");
    const auto v1_base = x402_test::requirements("v1-valid-legacy-client");

    SECTION("recipient") {
        auto r = base;
        r.pay_to = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        CHECK(reason_of(v2(r, now)) == "invalid_exact_evm_recipient_mismatch");
        r.pay_to = xp::detail::ascii_lower(base.pay_to);  // same address, other spelling
        CHECK(reason_of(v2(r, now)) == "valid");
    }
    SECTION("exact amount: more or less than signed is refused") {
        auto r = base;
        r.amount = "999";
        CHECK(reason_of(v2(r, now)) == "invalid_exact_evm_payload_authorization_value_mismatch");
        r.amount = "1001";
        CHECK(reason_of(v2(r, now)) == "invalid_exact_evm_payload_authorization_value_mismatch");
        r.amount = "0001000";  // same number
        CHECK(reason_of(v2(r, now)) == "valid");
        auto r1 = v1_base;
        r1.amount = "999";  // v1: the facilitator's v1 code, equality too
        CHECK(reason_of(x402_test::verdict("X-PAYMENT", v1_header, r1, now)) == "invalid_exact_evm_authorization_value");
    }
    SECTION("time window with the 6 second margin") {
        // validBefore 1767225660
        CHECK(reason_of(v2(base, 1767225654)) == "valid");
        CHECK(reason_of(v2(base, 1767225655)) == "invalid_exact_evm_payload_authorization_valid_before");
        CHECK(reason_of(v2(base, UINT64_MAX)) == "invalid_exact_evm_payload_authorization_valid_before");
        // v1 validAfter 1767225000
        CHECK(reason_of(x402_test::verdict("X-PAYMENT", v1_header, v1_base, 1767225000)) == "valid");
        CHECK(reason_of(x402_test::verdict("X-PAYMENT", v1_header, v1_base, 1767224999)) ==
              "invalid_exact_evm_payload_authorization_valid_after");
    }
    SECTION("network and scheme and domain") {
        auto r = base;
        r.network = "eip155:8453";
        CHECK(reason_of(v2(r, now)) == "invalid_exact_evm_network_mismatch");
        r = base;
        r.scheme = "upto";
        CHECK(reason_of(v2(r, now)) == "invalid_exact_evm_scheme");
        r = base;
        r.extra.erase("version");
        CHECK(reason_of(v2(r, now)) == "invalid_exact_evm_missing_eip712_domain");
        r = base;
        r.extra["name"] = "USD Coin";  // another token's domain: the digest differs
        CHECK(reason_of(v2(r, now)) == "invalid_exact_evm_signature");
        r = base;
        r.asset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
        CHECK(reason_of(v2(r, now)) == "invalid_exact_evm_signature");
    }
    SECTION("what cannot be decided offline") {
        auto r = base;
        r.extra["assetTransferMethod"] = "permit2";
        CHECK(reason_of(v2(r, now)) == "unsupported_payload_type");
        json permit2 = decoded("v2-valid");
        permit2["payload"] = json{{"permit2Authorization", {{"from", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"}}},
                                  {"signature", "0x00"}};
        CHECK(reason_of(verdict_of("v2-valid", permit2)) == "unsupported_payload_type");
        json smart_wallet = decoded("v2-valid");
        smart_wallet["payload"]["signature"] = smart_wallet["payload"]["signature"].get<std::string>() + std::string(64, 'a');
        const auto got = verdict_of("v2-valid", smart_wallet);
        CHECK(reason_of(got) == "unsupported_payload_type");
        CHECK(got.payer == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    }
    SECTION("field syntax") {
        const auto syntax = [&](const char* field, const json& value) {
            json payment = decoded("v2-valid");
            authorization(payment)[field] = value;
            return verdict_of("v2-valid", payment);
        };
        CHECK(syntax("value", "-1").invalid_message == "payload.authorization.value: not a uint256 decimal");
        CHECK(syntax("value", "1e3").invalid_reason == "invalid_payload");
        CHECK(syntax("value", "115792089237316195423570985008687907853269984665640564039457584007913129639936")
                  .invalid_reason == "invalid_payload");  // 2^256
        CHECK(syntax("value", 1000).invalid_message == "payload.authorization.value: missing or not a string");
        CHECK(syntax("nonce", "0x1234").invalid_message == "payload.authorization.nonce: not 32 bytes of hex");
        CHECK(syntax("from", "0xf39Fd6").invalid_message == "payload.authorization.from: not an address");
        CHECK(syntax("validBefore", "").invalid_reason == "invalid_payload");
        json payment = decoded("v2-valid");
        signature(payment) = "0xzz";
        CHECK(verdict_of("v2-valid", payment).invalid_message == "payload.signature: not hex");
        auto r = base;
        r.amount = "ten";
        CHECK(reason_of(v2(r, now)) == "invalid_payment_requirements");
    }
    SECTION("settle re-verifies and moves nothing") {
        STATIC_REQUIRE_FALSE(xp::LocalVerifier::settles_on_chain);
        auto payment = xp::decode_payment_header("PAYMENT-SIGNATURE", header).value();
        std::uint64_t clock = now;
        xp::LocalVerifierOptions options;
        options.clock = [&clock] { return clock; };
        const xp::LocalVerifier verifier(options);
        CHECK(verifier.verify_now(payment, base).is_valid);
        clock = 1767225700;  // expired meanwhile
        CHECK(verifier.verify_now(payment, base).invalid_reason ==
              "invalid_exact_evm_payload_authorization_valid_before");
    }
}

// ---------------------------------------------------------------- replay guard

TEST_CASE("replay guard: a claim holds until validBefore has passed", "[x402][replay]") {
    std::uint64_t now = 1000;
    xp::InMemoryReplayGuardOptions options;
    options.clock = [&now] { return now; };
    xp::InMemoryReplayGuard guard(options);
    const xp::ReplayKey key{"eip155:84532", "0xasset", "0xfrom", "0x01"};
    const xp::ReplayKey other{"eip155:84532", "0xasset", "0xfrom", "0x02"};

    CHECK(guard.try_claim_now(key, 1060));
    CHECK_FALSE(guard.try_claim_now(key, 1060));
    CHECK_FALSE(guard.try_claim_now(key, 5000));  // a longer window does not reopen it
    CHECK(guard.try_claim_now(other, 1030));
    xp::InMemoryReplayGuard copy = guard;  // copies share claims
    CHECK_FALSE(copy.try_claim_now(key, 1060));

    now = 1060;  // validBefore itself is still inside the window
    CHECK_FALSE(guard.try_claim_now(key, 1060));
    CHECK(guard.size() == 1u);  // `other` (1030) purged
    now = 1061;
    CHECK(guard.try_claim_now(key, 1120));
    CHECK_FALSE(guard.try_claim_now(key, 1120));

    SECTION("purge keeps memory bounded") {
        for (int i = 0; i < 1000; ++i) CHECK(guard.try_claim_now({"eip155:1", "a", "f", std::to_string(i)}, 2000 + i));
        CHECK(guard.size() == 1001u);
        now = 2500;
        guard.purge_expired();
        CHECK(guard.size() == 500u);
        now = 100000;
        guard.purge_expired();
        CHECK(guard.size() == 0u);
    }

    SECTION("a claim more than a ring of seconds ahead stays until its own second") {
        // 1061 + 3 * 1024 shares its bucket with 1061 + 1024 and is visited by
        // every purge that passes that bucket first.
        const std::uint64_t far = 1061 + 3 * 1024;
        const xp::ReplayKey near_key{"eip155:1", "a", "f", "near"};
        const xp::ReplayKey far_key{"eip155:1", "a", "f", "far"};
        CHECK(guard.try_claim_now(near_key, 1061 + 1024));
        CHECK(guard.try_claim_now(far_key, far));
        for (std::uint64_t step = 1100; step <= far; step += 700) {
            now = step;
            guard.purge_expired();
            CHECK_FALSE(guard.try_claim_now(far_key, far));
        }
        CHECK(guard.try_claim_now(near_key, far));  // its own window (to 2085) has passed
        now = far;
        CHECK_FALSE(guard.try_claim_now(far_key, far));
        now = far + 1;
        guard.purge_expired();
        CHECK(guard.size() == 0u);
        CHECK(guard.try_claim_now(far_key, far + 60));
    }

    SECTION("a claim whose validBefore has already passed is held for the current second") {
        // A verifier with a late clock may accept it: concurrent copies still run once.
        CHECK(guard.try_claim_now(other, 1000));
        CHECK_FALSE(guard.try_claim_now(other, 1000));
        CHECK(guard.size() == 2u);
        now = 1062;
        guard.purge_expired();
        CHECK(guard.size() == 1u);  // `other` gone, `key` (1120) held
    }

    SECTION("purging resumes when the clock is set back after a jump ahead") {
        now = 50000;  // a wrong clock, ahead by hours
        guard.purge_expired();
        now = 1062;  // corrected
        for (int i = 0; i < 100; ++i) CHECK(guard.try_claim_now({"eip155:1", "a", "f", "b" + std::to_string(i)}, 1070));
        CHECK(guard.size() == 100u);  // `key` expired at the wrong second 50000
        now = 1071;
        guard.purge_expired();
        CHECK(guard.size() == 0u);  // the 100 purged without waiting for second 50000
    }
}

TEST_CASE("replay guard: concurrent claims of one payment let exactly one through", "[x402][replay]") {
    xp::InMemoryReplayGuardOptions options;
    options.clock = [] { return std::uint64_t{1000}; };
    xp::InMemoryReplayGuard guard(options);
    std::atomic<int> granted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&guard, &granted] {
            for (int i = 0; i < 200; ++i)
                if (guard.try_claim_now({"eip155:1", "a", "f", std::to_string(i)}, 2000)) ++granted;
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(granted.load() == 200);
}

TEST_CASE("replay guard: the key is per chain and lower-cased", "[x402][replay]") {
    auto v1 = xp::decode_payment_header("X-PAYMENT", vector("v1-valid-legacy-client").at("headerValue").get<std::string>())
                  .value();
    auto claim = xp::eip3009_replay_claim(v1, x402_test::requirements("v1-valid-legacy-client")).value();
    CHECK(claim.first.network == "eip155:84532");  // v1 "base-sepolia"
    CHECK(claim.first.asset == "0x036cbd53842c5426634e7929541ec2318f3dcf7e");
    CHECK(claim.first.from == "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    CHECK(claim.first.nonce == "0x242538f9bfff1f85293aba6f9d7d91c73b67f5ccc4012baf37435302b5af725b");
    CHECK(claim.second == 1767225660u);
    CHECK(claim.first.to_string() ==
          "eip155:84532/0x036cbd53842c5426634e7929541ec2318f3dcf7e/0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266/"
          "0x242538f9bfff1f85293aba6f9d7d91c73b67f5ccc4012baf37435302b5af725b");
    json permit2 = decoded("v2-valid");
    permit2["payload"] = json{{"permit2Authorization", json::object()}, {"signature", "0x"}};
    CHECK_FALSE(xp::eip3009_replay_claim(xp::parse_payment_payload(permit2).value(),
                                              x402_test::requirements("v2-valid")));
}
