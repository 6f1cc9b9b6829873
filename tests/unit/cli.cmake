# Unit tests of cli/: the Go template engine, tabwriter, go-units, JSON
# spellings, the attach stream demultiplexer, pull progress and flag -> create body.
add_executable(berth_cli_tests
  unit/cli_go_template_test.cpp
  unit/cli_format_test.cpp
  unit/cli_client_test.cpp
  unit/cli_create_body_test.cpp
  unit/cli_containers_test.cpp
)
target_link_libraries(berth_cli_tests PRIVATE berth_catch_main berth_cli_lib)
berth_target(berth_cli_tests)
catch_discover_tests(berth_cli_tests TEST_PREFIX "unit: ")
