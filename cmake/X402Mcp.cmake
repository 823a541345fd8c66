# The MCP server layer, included from the top-level CMakeLists.txt:
#   x402::mcp   header-only: the Streamable HTTP MCP server (Boost.Beast), the
#               tool registry and the PaymentGate seam for priced tools.
#               Links x402::session only: no crypto, no x402 verifier.
#   x402::mcp_x402  header-only: adds x402/mcp/x402_gate.hpp, the PaymentGate
#               over the x402 payment hook (x402::mcp + x402::payment); link a
#               verifier target too (x402::payment_local / _facilitator).
# Also builds the agent-server example and the tests under tests/mcp when the
# project builds examples / tests.
set(X402_MCP_ROOT "${CMAKE_CURRENT_LIST_DIR}/..")

option(X402_SESSION_MCP_INTEROP
       "Add the interop test with the official MCP client (needs node 20+ and npm; runs npm ci once)" ON)

add_library(x402_mcp INTERFACE)
add_library(x402::mcp ALIAS x402_mcp)
set_target_properties(x402_mcp PROPERTIES EXPORT_NAME mcp)
target_link_libraries(x402_mcp INTERFACE x402::session)

add_library(x402_mcp_x402 INTERFACE)
add_library(x402::mcp_x402 ALIAS x402_mcp_x402)
set_target_properties(x402_mcp_x402 PROPERTIES EXPORT_NAME mcp_x402)
target_link_libraries(x402_mcp_x402 INTERFACE x402::mcp x402::payment)

if(X402_SESSION_INSTALL)
    install(TARGETS x402_mcp x402_mcp_x402 EXPORT x402-session-targets)
endif()

if(X402_SESSION_BUILD_EXAMPLES OR X402_SESSION_BUILD_TESTS)
    add_executable(x402_agent_server "${X402_MCP_ROOT}/examples/agent_server.cpp")
    set_target_properties(x402_agent_server PROPERTIES OUTPUT_NAME agent-server)
    target_include_directories(x402_agent_server PRIVATE "${X402_MCP_ROOT}/examples")
    target_link_libraries(x402_agent_server PRIVATE x402::mcp_x402 x402_session_project_flags)
    # Each verifier / store the build has; the others answer "not available".
    if(TARGET x402_payment_local)
        target_link_libraries(x402_agent_server PRIVATE x402::payment_local)
        target_compile_definitions(x402_agent_server PRIVATE X402_AGENT_SERVER_LOCAL_VERIFIER=1)
    endif()
    if(TARGET x402_payment_facilitator)
        target_link_libraries(x402_agent_server PRIVATE x402::payment_facilitator)
        target_compile_definitions(x402_agent_server PRIVATE X402_AGENT_SERVER_FACILITATOR=1)
    endif()
    if(TARGET x402_session_redis)
        target_link_libraries(x402_agent_server PRIVATE x402::session_redis)
        target_compile_definitions(x402_agent_server PRIVATE X402_AGENT_SERVER_REDIS=1)
    endif()
endif()

if(X402_SESSION_BUILD_TESTS)
    add_subdirectory("${X402_MCP_ROOT}/tests/mcp" "${PROJECT_BINARY_DIR}/tests/mcp")
endif()
