# Unit tests of engine/spec.
file(GLOB BERTHD_SPEC_TEST_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/engine_spec_*_test.cpp)
add_executable(berthd_spec_tests ${BERTHD_SPEC_TEST_SOURCES})
target_link_libraries(berthd_spec_tests PRIVATE berth_catch_main berthd_spec berth_oci_spec
  berth_fd)
berth_target(berthd_spec_tests)
catch_discover_tests(berthd_spec_tests TEST_PREFIX "unit: ")

# The spec under real runtimes (root): berth-oci and runc run what berthd_spec
# builds for a busybox container and must enforce Docker's defaults.
set(BERTHD_SPEC_RUNTIMES "berth-oci=$<TARGET_FILE:berth-oci>")
find_program(BERTHD_SPEC_RUNC runc)
if(BERTHD_SPEC_RUNC)
  list(APPEND BERTHD_SPEC_RUNTIMES "runc=${BERTHD_SPEC_RUNC}")
endif()
foreach(entry ${BERTHD_SPEC_RUNTIMES})
  string(REPLACE "=" ";" entry "${entry}")
  list(GET entry 0 runtime)
  list(GET entry 1 binary)
  add_test(NAME "integration: Docker's default spec enforced [${runtime}]"
    COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/engine_spec_runtime_test.sh
            $<TARGET_FILE:berthd-spec-dump> ${binary})
  set_tests_properties("integration: Docker's default spec enforced [${runtime}]"
    PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()
