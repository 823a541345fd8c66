# Proves the package works for users: install it into a private prefix, then
# build and run a separate consumer project through find_package and through
# add_subdirectory.
set(x402_session_prefix "${CMAKE_CURRENT_BINARY_DIR}/package-prefix")
set(x402_session_consumer_args
    --build-generator "${CMAKE_GENERATOR}"
    --build-options "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}" "-DCMAKE_BUILD_TYPE=Release")

add_test(NAME packaging.install
    COMMAND "${CMAKE_COMMAND}" --install "${PROJECT_BINARY_DIR}" --prefix "${x402_session_prefix}")
set_tests_properties(packaging.install PROPERTIES FIXTURES_SETUP x402_session_installed)

add_test(NAME packaging.find_package
    COMMAND "${CMAKE_CTEST_COMMAND}" --build-and-test
        "${CMAKE_CURRENT_SOURCE_DIR}/cmake_consumer" "${CMAKE_CURRENT_BINARY_DIR}/consumer-find-package"
        ${x402_session_consumer_args}
        "-DCONSUME_WITH=find_package" "-DCMAKE_PREFIX_PATH=${x402_session_prefix}"
        --test-command consumer)
set_tests_properties(packaging.find_package PROPERTIES FIXTURES_REQUIRED x402_session_installed)

add_test(NAME packaging.add_subdirectory
    COMMAND "${CMAKE_CTEST_COMMAND}" --build-and-test
        "${CMAKE_CURRENT_SOURCE_DIR}/cmake_consumer" "${CMAKE_CURRENT_BINARY_DIR}/consumer-add-subdirectory"
        ${x402_session_consumer_args}
        "-DCONSUME_WITH=add_subdirectory" "-DX402_SESSION_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
        --test-command consumer)

# With the defaults of a subproject: the core with Boost alone, no optional module.
add_test(NAME packaging.add_subdirectory_core
    COMMAND "${CMAKE_CTEST_COMMAND}" --build-and-test
        "${CMAKE_CURRENT_SOURCE_DIR}/cmake_consumer" "${CMAKE_CURRENT_BINARY_DIR}/consumer-add-subdirectory-core"
        ${x402_session_consumer_args}
        "-DCONSUME_WITH=add_subdirectory" "-DCONSUME_ALL=OFF" "-DX402_SESSION_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
        --test-command consumer)

set_tests_properties(packaging.install packaging.find_package packaging.add_subdirectory
    packaging.add_subdirectory_core PROPERTIES LABELS core)
