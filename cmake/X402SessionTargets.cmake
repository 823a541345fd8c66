# The library's targets, one per module (see the top-level CMakeLists.txt).
# Every target is INTERFACE (header-only) and has an alias x402::<name>.
# X402_SESSION_TARGETS lists the targets this configuration defines, for
# install and for the header self-containment tests.
set(X402_SESSION_TARGETS "")

# x402_add_module(<name> <link libraries...>): INTERFACE target x402_<name>,
# alias and export name x402::<name>.
function(x402_add_module name)
    add_library(x402_${name} INTERFACE)
    add_library(x402::${name} ALIAS x402_${name})
    set_target_properties(x402_${name} PROPERTIES EXPORT_NAME ${name})
    target_link_libraries(x402_${name} INTERFACE ${ARGN})
    set(X402_SESSION_TARGETS ${X402_SESSION_TARGETS} x402_${name} PARENT_SCOPE)
endfunction()

# x402::session, the core: Boost alone.
add_library(x402_session INTERFACE)
add_library(x402::session ALIAS x402_session)
set_target_properties(x402_session PROPERTIES EXPORT_NAME session)
target_compile_features(x402_session INTERFACE cxx_std_20)
target_include_directories(x402_session INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(x402_session INTERFACE Boost::headers Threads::Threads)
# The in-memory table frees its nodes with sized operator delete, which clang
# declares only with -fsized-deallocation (g++ enables it by default in C++14+).
target_compile_options(x402_session INTERFACE $<$<CXX_COMPILER_ID:Clang,AppleClang>:-fsized-deallocation>)
list(APPEND X402_SESSION_TARGETS x402_session)

# x402::http: the Beast HTTP server with its router, and URL parsing. Boost only.
x402_add_module(http x402::session)

if(X402_SESSION_REDIS)
    find_package(PkgConfig QUIET)
    if(PkgConfig_FOUND)
        # Not "HIREDIS": Debian's HiredisConfig.cmake sets HIREDIS_* variables.
        pkg_check_modules(x402_hiredis QUIET IMPORTED_TARGET hiredis>=0.14)
    endif()
    if(x402_hiredis_FOUND)
        x402_add_module(redis x402::session PkgConfig::x402_hiredis)
    else()
        message(STATUS "x402-session: hiredis not found, x402::redis and x402::payment_redis are skipped")
    endif()
endif()

if(X402_SESSION_HTTP_TLS)
    find_package(OpenSSL 1.1.1 QUIET)
    if(OpenSSL_FOUND)
        x402_add_module(http_tls x402::http OpenSSL::SSL OpenSSL::Crypto)
    else()
        message(STATUS "x402-session: OpenSSL not found, x402::http_tls and x402::payment_facilitator are skipped")
    endif()
endif()

if(X402_SESSION_PAYMENT)
    find_package(nlohmann_json 3.11 CONFIG QUIET)
    if(nlohmann_json_FOUND)
        x402_add_module(payment x402::session nlohmann_json::nlohmann_json)
        x402_add_module(mcp x402::http x402::payment)
        if(TARGET x402_http_tls)
            x402_add_module(payment_facilitator x402::payment x402::http_tls)
        endif()
        if(TARGET x402_redis)
            x402_add_module(payment_redis x402::payment x402::redis)
        endif()
        if(X402_SESSION_WITH_LOCAL_VERIFIER)
            find_package(PkgConfig QUIET)
            if(PkgConfig_FOUND)
                # Not the prefix SECP256K1/CRYPTOPP: other Find modules use those names.
                pkg_check_modules(x402_payment_crypto QUIET IMPORTED_TARGET libsecp256k1 libcrypto++)
            endif()
            if(x402_payment_crypto_FOUND)
                x402_add_module(payment_local x402::payment PkgConfig::x402_payment_crypto)
            else()
                message(STATUS "x402-session: libsecp256k1/Crypto++ not found, x402::payment_local is skipped")
            endif()
        endif()
    else()
        message(STATUS "x402-session: nlohmann_json not found, x402::payment and x402::mcp are skipped")
    endif()
endif()
