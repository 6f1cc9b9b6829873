# Unit tests of engine/http: a real Server on a temp unix socket, driven by a Beast client and
# raw socket writes.
file(GLOB BERTHD_HTTP_TEST_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_LIST_DIR}/engine_http_*_test.cpp)
add_executable(berthd_http_tests ${BERTHD_HTTP_TEST_SOURCES})
find_package(Boost REQUIRED)
target_link_libraries(berthd_http_tests PRIVATE berth_catch_main berthd_http Boost::headers
  Threads::Threads)
berth_target(berthd_http_tests)
catch_discover_tests(berthd_http_tests TEST_PREFIX "unit: ")
