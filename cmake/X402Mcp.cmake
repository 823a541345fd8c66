# The MCP server layer, included from the top-level CMakeLists.txt:
#   x402::mcp   header-only: the Streamable HTTP MCP server (Boost.Beast), the
#               tool registry and the PaymentGate seam for priced tools.
#               Links x402::session only: no crypto, no x402 verifier.
# Also builds the agent-server example and the tests under tests/mcp when the
# project builds examples / tests.
set(X402_MCP_ROOT "${CMAKE_CURRENT_LIST_DIR}/..")

option(X402_SESSION_MCP_INTEROP
       "Add the interop test with the official MCP client (needs node 20+ and npm; runs npm ci once)" ON)

add_library(x402_mcp INTERFACE)
add_library(x402::mcp ALIAS x402_mcp)
set_target_properties(x402_mcp PROPERTIES EXPORT_NAME mcp)
target_link_libraries(x402_mcp INTERFACE x402::session)

if(X402_SESSION_INSTALL)
    install(TARGETS x402_mcp EXPORT x402-session-targets)
endif()

if(X402_SESSION_BUILD_EXAMPLES OR X402_SESSION_BUILD_TESTS)
    add_executable(x402_agent_server "${X402_MCP_ROOT}/examples/agent_server.cpp")
    set_target_properties(x402_agent_server PROPERTIES OUTPUT_NAME agent-server)
    target_include_directories(x402_agent_server PRIVATE "${X402_MCP_ROOT}/examples")
    target_link_libraries(x402_agent_server PRIVATE x402::mcp x402_session_project_flags)
endif()

if(X402_SESSION_BUILD_TESTS)
    add_subdirectory("${X402_MCP_ROOT}/tests/mcp" "${PROJECT_BINARY_DIR}/tests/mcp")
endif()
