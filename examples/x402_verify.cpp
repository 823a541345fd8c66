// x402-verify: verifies one x402 payment header offline and prints the verdict.
//
//   x402-verify --header-name NAME --header VALUE --requirements FILE.json [--now UNIX_SECONDS]
//
// NAME is X-PAYMENT or PAYMENT-SIGNATURE; VALUE the header value as received.
// FILE.json holds what the server advertises: one PaymentRequirements object
// (the payment is judged against it, as a facilitator's /verify does), or a
// PaymentRequired object / an array of requirements (the payment is first
// matched as the official server does). --now defaults to the system clock.
//
// Prints exactly one JSON object {"valid":bool,"reason":string|null,"payer":string|null}
// (payer = authorization.from as sent; null when the header does not decode).
// Exit status: 0 valid, 1 invalid, 2 usage error (nothing on stdout).
#include <x402/payment.hpp>
#include <x402/payment/local_verifier.hpp>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace payment = x402::payment;

constexpr std::string_view usage =
    "usage: x402-verify --header-name NAME --header VALUE --requirements FILE.json [--now UNIX_SECONDS]\n";

int usage_error(std::string_view message) {
    std::cerr << "x402-verify: " << message << '\n' << usage;
    return 2;
}

int print_verdict(bool valid, std::optional<std::string> reason, std::optional<std::string> payer) {
    nlohmann::ordered_json verdict;
    verdict["valid"] = valid;
    verdict["reason"] = reason ? nlohmann::ordered_json(*reason) : nlohmann::ordered_json(nullptr);
    verdict["payer"] = payer ? nlohmann::ordered_json(*payer) : nlohmann::ordered_json(nullptr);
    std::cout << verdict.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    return valid ? 0 : 1;
}

std::optional<std::uint64_t> parse_unix_seconds(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::cout << usage;
            return 0;
        }
        if (flag != "--header-name" && flag != "--header" && flag != "--requirements" && flag != "--now")
            return usage_error("unknown argument " + std::string(flag));
        if (i + 1 >= argc) return usage_error("missing value for " + std::string(flag));
        if (!options.emplace(std::string(flag), argv[++i]).second)
            return usage_error("repeated " + std::string(flag));
    }
    for (const char* required : {"--header-name", "--header", "--requirements"})
        if (!options.contains(required)) return usage_error("missing " + std::string(required));

    const std::string& header_name = options["--header-name"];
    if (!payment::header_name_equals(header_name, payment::header::x_payment) &&
        !payment::header_name_equals(header_name, payment::header::payment_signature))
        return usage_error("--header-name must be X-PAYMENT or PAYMENT-SIGNATURE");

    payment::UnixClock clock = payment::system_unix_seconds;
    if (auto it = options.find("--now"); it != options.end()) {
        const auto now = parse_unix_seconds(it->second);
        if (!now) return usage_error("--now must be unix seconds");
        clock = [seconds = *now] { return seconds; };
    }

    std::ifstream file(options["--requirements"], std::ios::binary);
    if (!file) return usage_error("cannot read " + options["--requirements"]);
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (file.bad()) return usage_error("cannot read " + options["--requirements"]);
    const payment::json document = payment::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return usage_error("requirements file is not JSON");

    // One requirement, or a list to match against.
    std::vector<payment::PaymentRequirements> advertised;
    bool match_first = true;
    if (document.is_object() && document.contains("accepts")) {
        auto required = payment::parse_payment_required(document);
        if (!required) return usage_error(required.error().message());
        advertised = std::move(required->accepts);
    } else if (document.is_array()) {
        for (const auto& entry : document) {
            auto requirements = payment::parse_payment_requirements(entry);
            if (!requirements) return usage_error(requirements.error().message());
            advertised.push_back(std::move(*requirements));
        }
    } else {
        auto requirements = payment::parse_payment_requirements(document);
        if (!requirements) return usage_error(requirements.error().message());
        advertised.push_back(std::move(*requirements));
        match_first = false;
    }

    auto decoded = payment::decode_payment_header(header_name, options["--header"]);
    if (!decoded) return print_verdict(false, decoded.error().reason(), std::nullopt);

    const payment::PaymentRequirements* requirements = advertised.empty() ? nullptr : &advertised.front();
    if (match_first) {
        const auto index = payment::find_matching_requirements(advertised, *decoded);
        requirements = index ? &advertised[*index] : nullptr;
    }
    if (requirements == nullptr)
        return print_verdict(false, std::string(payment::reason::no_matching_requirements),
                             payment::claimed_payer(*decoded));

    const payment::LocalVerifier verifier(payment::LocalVerifierOptions{clock});
    const payment::VerifyResponse verdict = verifier.verify_now(*decoded, *requirements);
    return print_verdict(verdict.is_valid, verdict.invalid_reason, verdict.payer);
}
