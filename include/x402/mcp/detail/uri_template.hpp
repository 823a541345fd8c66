// RFC 6570 level-1 URI templates (`{var}` only), parsed once at registration
// and matched against the URIs of `resources/read`.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace x402::mcp::detail {

/// A parsed template. A variable matches one or more characters other than
/// '/'; within one '/'-separated segment, each variable but the last takes as
/// few characters as it can (`{a}.{b}` on `x.y.z`: a = x, b = y.z). Matched
/// values are returned as they appear in the URI (not percent-decoded).
class UriTemplate {
public:
    /// Throws std::invalid_argument for an unbalanced or nested brace, an
    /// empty or repeated variable name, a name of other than ALPHA, DIGIT, '_'
    /// and '.' (operators such as `{+var}` or `{?q}` are levels 2-4, not
    /// supported, as are lists `{a,b}`), or two variables with nothing
    /// between them (`{a}{b}` would split a value arbitrarily).
    explicit UriTemplate(std::string_view text) {
        segments_.emplace_back();
        std::string literal;
        auto flush = [this, &literal] {
            if (!literal.empty()) segments_.back().push_back(Part{false, std::move(literal)});
            literal.clear();
        };
        for (std::size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            if (c == '}') throw std::invalid_argument("URI template: '}' without '{'");
            if (c == '/') {
                flush();
                segments_.emplace_back();
                continue;
            }
            if (c != '{') {
                literal.push_back(c);
                continue;
            }
            const std::size_t close = text.find('}', i + 1);
            if (close == std::string_view::npos) throw std::invalid_argument("URI template: '{' without '}'");
            const std::string name(text.substr(i + 1, close - i - 1));
            if (name.empty()) throw std::invalid_argument("URI template: empty variable name");
            for (const char n : name) {
                const bool allowed = (n >= 'A' && n <= 'Z') || (n >= 'a' && n <= 'z') || (n >= '0' && n <= '9') ||
                                     n == '_' || n == '.';
                if (!allowed)
                    throw std::invalid_argument("URI template: variable {" + name +
                                                "}: only level-1 {name} expressions (letters, digits, '_', '.') are "
                                                "supported");
            }
            if (!variables_.insert(name).second)
                throw std::invalid_argument("URI template: variable {" + name + "} appears twice");
            if (literal.empty() && !segments_.back().empty() && segments_.back().back().variable)
                throw std::invalid_argument("URI template: variables {" + segments_.back().back().text + "} and {" +
                                            name + "} need a literal between them");
            flush();
            segments_.back().push_back(Part{true, name});
            i = close;
        }
        flush();
    }

    /// The variable names.
    const std::set<std::string>& variables() const noexcept { return variables_; }

    /// The variables' values if `uri` matches, else nullopt.
    std::optional<std::map<std::string, std::string>> match(std::string_view uri) const {
        std::map<std::string, std::string> values;
        std::size_t segment = 0;
        std::size_t begin = 0;
        while (true) {
            if (segment == segments_.size()) return std::nullopt;
            const std::size_t slash = uri.find('/', begin);
            const std::string_view piece = uri.substr(begin, slash == std::string_view::npos ? uri.npos : slash - begin);
            if (!match_segment(segments_[segment], piece, values)) return std::nullopt;
            ++segment;
            if (slash == std::string_view::npos) break;
            begin = slash + 1;
        }
        if (segment != segments_.size()) return std::nullopt;
        return values;
    }

private:
    struct Part {
        bool variable;
        std::string text;  // the literal, or the variable's name
    };
    using Segment = std::vector<Part>;

    // Literals and variables alternate (no two variables are adjacent), so
    // taking the first occurrence of each literal after a variable's first
    // character finds a match whenever one exists, in linear passes.
    static bool match_segment(const Segment& parts, std::string_view piece, std::map<std::string, std::string>& values) {
        std::size_t first = 0;
        std::size_t last = parts.size();
        if (first < last && !parts[first].variable) {
            if (piece.substr(0, parts[first].text.size()) != parts[first].text) return false;
            piece.remove_prefix(parts[first].text.size());
            ++first;
        }
        if (first < last && !parts[last - 1].variable) {
            const std::string& suffix = parts[last - 1].text;
            if (piece.size() < suffix.size() || piece.substr(piece.size() - suffix.size()) != suffix) return false;
            piece.remove_suffix(suffix.size());
            --last;
        }
        if (first == last) return piece.empty();
        // parts[first, last) is variable (literal variable)*.
        std::size_t at = 0;
        for (std::size_t i = first; i + 1 < last; i += 2) {
            const std::string& literal = parts[i + 1].text;
            const std::size_t found = piece.find(literal, at + 1);
            if (found == std::string_view::npos) return false;
            values[parts[i].text] = std::string(piece.substr(at, found - at));
            at = found + literal.size();
        }
        if (at >= piece.size()) return false;
        values[parts[last - 1].text] = std::string(piece.substr(at));
        return true;
    }

    std::vector<Segment> segments_;
    std::set<std::string> variables_;
};

}  // namespace x402::mcp::detail
