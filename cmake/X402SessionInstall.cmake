# Installs the headers and a CMake package, so that consumers can write
#   find_package(x402-session CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE x402::session)   # or any other module target
include(CMakePackageConfigHelpers)

set(X402_SESSION_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/x402-session")

install(DIRECTORY include/ DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS ${X402_SESSION_TARGETS} EXPORT x402-session-targets)
install(EXPORT x402-session-targets NAMESPACE x402:: DESTINATION "${X402_SESSION_CMAKE_DIR}")

configure_package_config_file(cmake/x402-sessionConfig.cmake.in
    "${PROJECT_BINARY_DIR}/x402-sessionConfig.cmake"
    INSTALL_DESTINATION "${X402_SESSION_CMAKE_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/x402-sessionConfigVersion.cmake"
    COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/x402-sessionConfig.cmake"
              "${PROJECT_BINARY_DIR}/x402-sessionConfigVersion.cmake"
        DESTINATION "${X402_SESSION_CMAKE_DIR}")
