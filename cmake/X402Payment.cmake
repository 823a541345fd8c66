# The x402 payment layer, included from the top-level CMakeLists.txt:
#   x402::payment        header-only: protocol types and codecs, matching, the
#                        PaymentVerifier / ReplayGuard concepts, the hook.
#                        Links x402::session only: no crypto.
#   x402::payment_local  adds LocalVerifier (offline EIP-3009 verification):
#                        libsecp256k1 (recovery) + Crypto++ (Keccak-256), found
#                        with pkg-config (Debian: libsecp256k1-dev libcrypto++-dev).
#   x402::payment_facilitator  adds FacilitatorVerifier (an HTTP(S) facilitator
#                        client on Boost.Beast): links OpenSSL (Debian: libssl-dev).
# Also builds the x402-verify example and the tests under tests/x402 when the
# project builds examples / tests.
set(X402_PAYMENT_ROOT "${CMAKE_CURRENT_LIST_DIR}/..")

option(X402_SESSION_WITH_LOCAL_VERIFIER
       "Build x402::payment_local (LocalVerifier; needs libsecp256k1 and Crypto++ via pkg-config)" ON)

add_library(x402_payment INTERFACE)
add_library(x402::payment ALIAS x402_payment)
set_target_properties(x402_payment PROPERTIES EXPORT_NAME payment)
target_link_libraries(x402_payment INTERFACE x402::session)

if(X402_SESSION_INSTALL)
    install(TARGETS x402_payment EXPORT x402-session-targets)
endif()

option(X402_SESSION_WITH_FACILITATOR_VERIFIER
       "Build x402::payment_facilitator (FacilitatorVerifier; needs OpenSSL)" ON)

if(X402_SESSION_WITH_FACILITATOR_VERIFIER)
    find_package(OpenSSL 1.1.1 REQUIRED)
    add_library(x402_payment_facilitator INTERFACE)
    add_library(x402::payment_facilitator ALIAS x402_payment_facilitator)
    set_target_properties(x402_payment_facilitator PROPERTIES EXPORT_NAME payment_facilitator)
    target_link_libraries(x402_payment_facilitator INTERFACE x402::payment OpenSSL::SSL OpenSSL::Crypto)
    if(X402_SESSION_INSTALL)
        # Consumers that link it need find_dependency(OpenSSL) in x402-sessionConfig.cmake.
        install(TARGETS x402_payment_facilitator EXPORT x402-session-targets)
    endif()
endif()

if(X402_SESSION_WITH_LOCAL_VERIFIER)
    find_package(PkgConfig REQUIRED)
    # Not the prefix SECP256K1/CRYPTOPP: other Find modules use those names.
    pkg_check_modules(x402_payment_crypto REQUIRED IMPORTED_TARGET libsecp256k1 libcrypto++)

    add_library(x402_payment_local INTERFACE)
    add_library(x402::payment_local ALIAS x402_payment_local)
    set_target_properties(x402_payment_local PROPERTIES EXPORT_NAME payment_local)
    target_link_libraries(x402_payment_local INTERFACE x402::payment PkgConfig::x402_payment_crypto)
    if(X402_SESSION_INSTALL)
        # x402-sessionConfig.cmake looks the crypto libraries up again for consumers.
        install(TARGETS x402_payment_local EXPORT x402-session-targets)
    endif()

    if(X402_SESSION_BUILD_EXAMPLES OR X402_SESSION_BUILD_TESTS)
        add_executable(x402_verify "${X402_PAYMENT_ROOT}/examples/x402_verify.cpp")
        set_target_properties(x402_verify PROPERTIES OUTPUT_NAME x402-verify)
        target_link_libraries(x402_verify PRIVATE x402::payment_local x402_session_project_flags)
    endif()

    if(X402_SESSION_BUILD_TESTS)
        add_subdirectory("${X402_PAYMENT_ROOT}/tests/x402" "${PROJECT_BINARY_DIR}/tests/x402")
    endif()
endif()
