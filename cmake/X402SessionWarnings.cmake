# Flags for the project's own targets (tests, examples): warnings are errors,
# and the sanitizers chosen by X402_SESSION_SANITIZE.
add_library(x402_session_project_flags INTERFACE)
target_compile_options(x402_session_project_flags INTERFACE -Wall -Wextra -Wpedantic -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 falsely pairs Asio's coroutine-frame operator delete with
    # aligned_alloc in large coroutines at -O2.
    target_compile_options(x402_session_project_flags INTERFACE -Wno-mismatched-new-delete)
endif()

if(X402_SESSION_SANITIZE)
    target_compile_options(x402_session_project_flags INTERFACE
        -fsanitize=${X402_SESSION_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(x402_session_project_flags INTERFACE -fsanitize=${X402_SESSION_SANITIZE})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND X402_SESSION_SANITIZE MATCHES "undefined")
        # clang 14's -fsanitize=function cannot compile coroutine code.
        target_compile_options(x402_session_project_flags INTERFACE -fno-sanitize=function)
    endif()
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        # g++ 12 with the sanitizers reports a false -Wmaybe-uninitialized in
        # libstdc++'s regex compiler. detail/schema.hpp silences it around its
        # include, but g++ before 13 drops such pragmas from precompiled
        # headers, which the test executables use.
        target_compile_options(x402_session_project_flags INTERFACE -Wno-maybe-uninitialized)
    endif()
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND X402_SESSION_SANITIZE MATCHES "thread")
        # g++ 12 warns that TSan does not model atomic_thread_fence.
        target_compile_options(x402_session_project_flags INTERFACE -Wno-tsan)
    endif()
endif()
