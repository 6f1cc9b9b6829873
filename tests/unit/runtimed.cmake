# Unit tests of berth-runtimed's parts: List filters (containerd's syntax),
# Tasks.Stats' decoding, the ttrpc client's cancellable call that a
# cancelled Tasks.Wait relies on, containerd's identifier rule, the lease and
# content-label stores, the shims' log forwarding.
add_executable(berth_runtimed_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/runtimed_filters_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtimed_task_stats_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ttrpc_cancel_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtimed_leases_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtimed_identifier_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtimed_shim_log_test.cpp)
target_link_libraries(berth_runtimed_unit_tests PRIVATE berth_catch_main berth_filters berth_tasks
  berth_metadata berth_ttrpc berth_event_loop Threads::Threads)
berth_target(berth_runtimed_unit_tests)
catch_discover_tests(berth_runtimed_unit_tests TEST_PREFIX "unit: ")
