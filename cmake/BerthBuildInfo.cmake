# Generates build_info.cpp with the version, git commit and build date.
# The file is rewritten at build time only when the commit changes, so a
# rebuild without new commits relinks nothing.
set(BERTH_BUILD_INFO_CPP ${PROJECT_BINARY_DIR}/generated/build_info_data.cpp)
add_custom_target(berth_build_info_gen
  BYPRODUCTS ${BERTH_BUILD_INFO_CPP}
  COMMAND ${CMAKE_COMMAND}
          -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DOUTPUT=${BERTH_BUILD_INFO_CPP}
          -DVERSION=${PROJECT_VERSION}
          -P ${PROJECT_SOURCE_DIR}/cmake/GenerateBuildInfo.cmake
  COMMENT "Checking git commit for build info"
  VERBATIM)
