// PrometheusText: builds a metrics page in the Prometheus text exposition
// format (version 0.0.4), the format every Prometheus-compatible scraper
// reads. Only counters and gauges, which is all the library has.
//
//     x402::http::PrometheusText page;
//     page.counter("x402_http_requests_total", "Requests read whole.", server.metrics().requests);
//     return x402::http::Response::text(200, page.str(), x402::http::PrometheusText::content_type);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::http {

class PrometheusText {
public:
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

    /// One label value of a sample family, e.g. {"reason", "invalid_payload"}.
    using Labelled = std::vector<std::pair<std::string, std::uint64_t>>;

    PrometheusText& counter(std::string_view name, std::string_view help, std::uint64_t value) {
        family(name, help, "counter");
        sample(name, {}, {}, value);
        return *this;
    }
    PrometheusText& gauge(std::string_view name, std::string_view help, std::uint64_t value) {
        family(name, help, "gauge");
        sample(name, {}, {}, value);
        return *this;
    }
    /// A counter with one label: a sample per (label value, count).
    PrometheusText& counter(std::string_view name, std::string_view help, std::string_view label,
                            const Labelled& values) {
        family(name, help, "counter");
        for (const auto& [label_value, value] : values) sample(name, label, label_value, value);
        return *this;
    }

    const std::string& str() const noexcept { return text_; }

private:
    void family(std::string_view name, std::string_view help, std::string_view type) {
        text_ += "# HELP ";
        text_ += name;
        text_ += ' ';
        escape(help, false);
        text_ += "\n# TYPE ";
        text_ += name;
        text_ += ' ';
        text_ += type;
        text_ += '\n';
    }

    void sample(std::string_view name, std::string_view label, std::string_view label_value, std::uint64_t value) {
        text_ += name;
        if (!label.empty()) {
            text_ += '{';
            text_ += label;
            text_ += "=\"";
            escape(label_value, true);
            text_ += "\"}";
        }
        text_ += ' ';
        text_ += std::to_string(value);
        text_ += '\n';
    }

    /// The format's escapes: backslash and newline (and, in a label value,
    /// the double quote).
    void escape(std::string_view raw, bool quoted) {
        for (const char c : raw) {
            if (c == '\\') text_ += "\\\\";
            else if (c == '\n') text_ += "\\n";
            else if (quoted && c == '"') text_ += "\\\"";
            else text_ += c;
        }
    }

    std::string text_;
};

}  // namespace x402::http
