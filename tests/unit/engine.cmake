# Unit tests of berthd's own code (engine/ outside http/ and spec/).
add_executable(berthd_unit_tests ${CMAKE_CURRENT_SOURCE_DIR}/unit/engine_detach_keys_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/engine_events_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/engine_json_file_log_test.cpp)
target_link_libraries(berthd_unit_tests PRIVATE berth_catch_main berthd_lib)
berth_target(berthd_unit_tests)
catch_discover_tests(berthd_unit_tests TEST_PREFIX "unit: ")
