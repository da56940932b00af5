# Debian bookworm packages only: libjq-dev (jq 1.6, no pkg-config file), rapidjson-dev,
# libyaml-cpp-dev, libsqlite3-dev, libcli11-dev, libgtest-dev, libsimdjson-dev, libboost1.81-dev,
# libssl-dev, libspdlog-dev.
find_package(Threads REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(simdjson REQUIRED)
find_package(Boost 1.81 REQUIRED)   # libboost1.81-dev: Beast and Asio (header-only)
find_package(OpenSSL REQUIRED)      # libssl-dev: TLS, HMAC, SHA-2
find_package(spdlog REQUIRED)       # libspdlog-dev: server logging

find_path(JQ_INCLUDE_DIR jq.h REQUIRED)
find_library(JQ_LIBRARY NAMES jq REQUIRED)
add_library(portolan::jq UNKNOWN IMPORTED)
set_target_properties(portolan::jq PROPERTIES
  IMPORTED_LOCATION ${JQ_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${JQ_INCLUDE_DIR})

find_path(RAPIDJSON_INCLUDE_DIR rapidjson/reader.h REQUIRED)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
include_directories(SYSTEM ${RAPIDJSON_INCLUDE_DIR} ${CLI11_INCLUDE_DIR})
