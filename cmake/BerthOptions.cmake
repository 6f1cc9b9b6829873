# Compiler options shared by every target: fatal warnings, sanitizers, ccache.

set(BERTH_SANITIZE "" CACHE STRING
    "Comma-separated sanitizers to build with, e.g. address,undefined")

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# Warnings apply to our code only (generated protobuf code gets its own, laxer set).
add_library(berth_warnings INTERFACE)
target_compile_options(berth_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wdouble-promotion
  -Wformat=2 -Wimplicit-fallthrough -Wno-missing-field-initializers)

add_compile_options(-fno-omit-frame-pointer -D_GNU_SOURCE)

if(BERTH_SANITIZE)
  set(_san "-fsanitize=${BERTH_SANITIZE}")
  add_compile_options(${_san} -fno-sanitize-recover=all)
  # GCC 12 reports false -Wmaybe-uninitialized in libstdc++ (std::regex,
  # std::function) under the sanitizers' instrumentation; after -Wall, so it sticks.
  target_compile_options(berth_warnings INTERFACE -Wno-maybe-uninitialized)
  add_link_options(${_san})
  message(STATUS "berth: sanitizers ${BERTH_SANITIZE}")
endif()

# berth_target(NAME) applies the project-wide settings to one of our targets.
function(berth_target name)
  target_link_libraries(${name} PRIVATE berth_warnings)
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# berth_static_executable(target): for binaries that run per container (the
# OCI runtime at every start, the shim for a container's life). Links them
# fully static (cmake/static-link.sh), so they load no shared libraries and
# dirty no relocation pages of their own, and moves the debug info into
# <binary>.debug. Sanitizer builds stay dynamic: their runtimes need it.
option(BERTH_STATIC "Link the per-container binaries (berth-oci, the shim) statically" ON)
function(berth_static_executable name)
  if(BERTH_STATIC AND NOT BERTH_SANITIZE)
    set_target_properties(${name} PROPERTIES
      RULE_LAUNCH_LINK ${PROJECT_SOURCE_DIR}/cmake/static-link.sh)
  endif()
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_OBJCOPY} --only-keep-debug $<TARGET_FILE:${name}> $<TARGET_FILE:${name}>.debug
    COMMAND ${CMAKE_OBJCOPY} --strip-all --add-gnu-debuglink=$<TARGET_FILE:${name}>.debug
            $<TARGET_FILE:${name}>
    VERBATIM)
endfunction()
