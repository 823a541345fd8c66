// Test support (C++) for the FacilitatorVerifier tests: the facilitator test double
// (tests/payment/facilitator_double, a node process on loopback) started and
// stopped by the test, a test-time TLS certificate made with openssl, and
// running awaitables on an io_context the verifier is built on.
#pragma once

#include <x402/payment/facilitator_verifier.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

#ifndef X402_NODE_PATH
#error "X402_NODE_PATH must name the node executable"
#endif

namespace facilitator_test {

using x402::payment::json;

/// The facilitator double, running while this object lives (see facilitator_double.mjs).
class FacilitatorDouble {
public:
    struct Options {
        /// Load the official facilitator code from this directory's node_modules (/official/...).
        std::optional<std::string> modules;
        std::optional<std::string> tls_cert;
        std::optional<std::string> tls_key;
    };

    FacilitatorDouble() : FacilitatorDouble(Options{}) {}

    explicit FacilitatorDouble(const Options& options) {
        std::vector<std::string> args{X402_NODE_PATH, X402_FACILITATOR_DOUBLE};
        if (options.modules) args.insert(args.end(), {"--modules", *options.modules});
        if (options.tls_cert) args.insert(args.end(), {"--tls-cert", *options.tls_cert, "--tls-key", *options.tls_key});
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_addclose(&actions, in[1]);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        if (spawned != 0) {
            close(out[0]);
            close(stdin_);
            throw std::runtime_error("cannot start node");
        }
        // The first line is {"port": N}.
        std::string line;
        char c = 0;
        while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
        stdout_ = out[0];
        const json ready = json::parse(line, nullptr, false);
        if (ready.is_discarded() || !ready.contains("port")) {
            stop();
            throw std::runtime_error("the facilitator double did not start: '" + line + "'");
        }
        port_ = ready.at("port").get<int>();
    }

    FacilitatorDouble(const FacilitatorDouble&) = delete;
    FacilitatorDouble& operator=(const FacilitatorDouble&) = delete;
    ~FacilitatorDouble() { stop(); }

    int port() const noexcept { return port_; }
    std::string url(const std::string& mode, const std::string& host = "127.0.0.1", bool tls = false) const {
        return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port_) + "/" + mode;
    }

    /// GET path over a new plain connection (counted by the double).
    json get(const std::string& path) const {
        namespace asio = boost::asio;
        namespace http = boost::beast::http;
        asio::io_context io;
        asio::ip::tcp::socket socket(io);
        socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)));
        http::request<http::string_body> request{http::verb::get, path, 11};
        request.set(http::field::host, "127.0.0.1");
        request.keep_alive(false);
        http::write(socket, request);
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> response;
        http::read(socket, buffer, response);
        return json::parse(response.body());
    }

private:
    void stop() {
        if (pid_ <= 0) return;
        close(stdin_);  // the double exits when its stdin ends
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        if (stdout_ >= 0) close(stdout_);
        pid_ = -1;
    }

    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    int port_ = 0;
};

/// Runs `operation` on `io` (the verifier's execution context) until it completes.
template <class T>
T await_on(boost::asio::io_context& io, x402::session::awaitable<T> operation) {
    std::exception_ptr error;
    std::optional<T> result;
    boost::asio::co_spawn(io, std::move(operation), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e) result.emplace(std::move(value));
    });
    io.restart();
    io.run_for(std::chrono::seconds(60));
    if (error) std::rethrow_exception(error);
    if (!result) throw std::runtime_error("await_on: the operation did not complete");
    return std::move(*result);
}

/// A CA and a server certificate for IP 127.0.0.1 only (no DNS name), made
/// with the openssl command once per process.
struct TlsMaterial {
    std::string ca;
    std::string cert;
    std::string key;
};

inline const TlsMaterial& tls_material() {
    static const TlsMaterial material = [] {
        namespace fs = std::filesystem;
        const fs::path dir = fs::path(X402_TEST_WORK_DIR) / ("tls-" + std::to_string(getpid()));
        fs::create_directories(dir);
        const std::string d = dir.string();
        const std::string openssl = X402_OPENSSL_PATH;
        const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        const std::vector<std::string> commands{
            openssl + " req -x509" + ec + " -days 2 -subj '/CN=x402-session test CA' -keyout " + d + "/ca.key -out " + d +
                "/ca.pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
            openssl + " req" + ec + " -subj '/CN=x402 facilitator double' -keyout " + d + "/server.key -out " + d +
                "/server.csr",
            openssl + " x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d + "/ca.key -CAcreateserial -days 2 -out " +
                d + "/server.pem -extfile " + d + "/server.ext",
        };
        std::ofstream(dir / "server.ext") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        for (const std::string& command : commands)
            if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
        return TlsMaterial{d + "/ca.pem", d + "/server.pem", d + "/server.key"};
    }();
    return material;
}

/// A TCP port on 127.0.0.1 that nobody listens on (bound, then released).
inline int unused_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

}  // namespace facilitator_test
