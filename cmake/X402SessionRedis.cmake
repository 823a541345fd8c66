# x402::session_redis: RedisStore, RedisReplayGuard and make_store(url), on
# hiredis (pkg-config `hiredis`, Debian libhiredis-dev). The core target
# x402::session links nothing new; only users of the Redis headers link this.
#
# Included from the top-level CMakeLists.txt when X402_SESSION_REDIS is ON.
find_package(PkgConfig REQUIRED)
# Not "HIREDIS": Debian's HiredisConfig.cmake sets HIREDIS_* variables.
pkg_check_modules(x402_hiredis REQUIRED IMPORTED_TARGET hiredis>=0.14)

add_library(x402_session_redis INTERFACE)
add_library(x402::session_redis ALIAS x402_session_redis)
set_target_properties(x402_session_redis PROPERTIES EXPORT_NAME session_redis)
target_link_libraries(x402_session_redis INTERFACE x402::session PkgConfig::x402_hiredis)

if(X402_SESSION_INSTALL)
    # x402-sessionConfig.cmake looks hiredis up again for consumers.
    install(TARGETS x402_session_redis EXPORT x402-session-targets)
endif()
