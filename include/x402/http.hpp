// x402::http, Boost only: URL parsing for the HTTP client. The HTTP(S)
// client itself needs OpenSSL and is left out: include <x402/http/client.hpp>
// and link x402::http_tls.
#pragma once

#include <x402/http/url.hpp>
