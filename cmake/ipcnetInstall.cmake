# Install and export rules for IPCNet, included from the top-level
# CMakeLists.txt once the library targets exist.
#
# `cmake --install <build> [--prefix P]` (or `make install PREFIX=P`, which
# honours DESTDIR) installs:
#   <libdir>/libipcnet.so.X.Y.Z, its SONAME link libipcnet.so.X.Y and the
#     development link libipcnet.so                 (components runtime / development)
#   <libdir>/libipcnet.a                            (development)
#   <includedir>/ipcnet.h (every public header of include/)    (development)
#   <libdir>/pkgconfig/ipcnet.pc                    (development)
#   <libdir>/cmake/ipcnet/ipcnet{Config,ConfigVersion,Targets}.cmake
#     so that find_package(ipcnet) gives ipcnet::ipcnet (shared) and
#     ipcnet::ipcnet_static                         (development)
# The CLI (tools/) and the Python package (python/) install themselves with
# install() in their own CMakeLists.txt; the CLI gets an RPATH relative to
# its own location (set below), the Python module one relative to its
# directory, so a private prefix works without LD_LIBRARY_PATH.  Nothing
# else is installed: not the tests, the benchmark or the demo programs
# (tests/install/test_install.sh checks the list).

# The same names for projects that embed IPCNet with add_subdirectory().
add_library(ipcnet::ipcnet ALIAS ipcnet)
add_library(ipcnet::ipcnet_static ALIAS ipcnet_static)
set_target_properties(ipcnet PROPERTIES EXPORT_NAME ipcnet)
set_target_properties(ipcnet_static PROPERTIES EXPORT_NAME ipcnet_static)

# Where the CMake package files go (relative to the prefix); follows
# CMAKE_INSTALL_LIBDIR unless set with -DIPCNET_CMAKE_INSTALL_DIR=...
if(NOT DEFINED IPCNET_CMAKE_INSTALL_DIR)
  set(IPCNET_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ipcnet)
endif()

install(TARGETS ipcnet ipcnet_static
  EXPORT ipcnetTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          COMPONENT runtime NAMELINK_COMPONENT development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

# CMake package: targets, config, version.  Before 1.0 the minor number is
# the ABI (the SONAME is libipcnet.so.MAJOR.MINOR), hence SameMinorVersion.
install(EXPORT ipcnetTargets
  NAMESPACE ipcnet::
  FILE ipcnetTargets.cmake
  DESTINATION ${IPCNET_CMAKE_INSTALL_DIR} COMPONENT development)
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/ipcnetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ipcnetConfig.cmake
  INSTALL_DESTINATION ${IPCNET_CMAKE_INSTALL_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/ipcnetConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ipcnetConfig.cmake
              ${PROJECT_BINARY_DIR}/ipcnetConfigVersion.cmake
  DESTINATION ${IPCNET_CMAKE_INSTALL_DIR} COMPONENT development)

# pkg-config.  The prefix is only known at install time (`cmake --install
# --prefix P` overrides the configured one), so ipcnet.pc is written then;
# libdir and includedir are relative to ${prefix} unless configured absolute.
# When libdir is not a directory the linker and the loader search anyway
# (the compiler's implicit link directories: /usr/lib/<triplet>...), Libs
# also carries -Wl,-rpath,${libdir}, so that a program built with
# `pkg-config --libs ipcnet` against a private prefix (/opt/ipcnet,
# $HOME/.local, even /usr/local before `ldconfig`) finds the library it
# was linked with, without LD_LIBRARY_PATH.
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(IPCNET_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(IPCNET_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
set(IPCNET_PC_PREFIX "@IPCNET_PC_PREFIX@") # kept for the install step
set(IPCNET_PC_RPATH "@IPCNET_PC_RPATH@")   # likewise
configure_file(${PROJECT_SOURCE_DIR}/ipcnet.pc.in
               ${PROJECT_BINARY_DIR}/ipcnet.pc.stage @ONLY)
set(_ipcnet_sysdirs ${CMAKE_C_IMPLICIT_LINK_DIRECTORIES} /lib /usr/lib)
install(CODE "
  set(_ipcnet_pc_stage \"${PROJECT_BINARY_DIR}/ipcnet.pc.stage\")
  set(_ipcnet_pc_out \"${PROJECT_BINARY_DIR}/ipcnet.pc\")
  set(_ipcnet_libdir \"${CMAKE_INSTALL_LIBDIR}\")
  set(_ipcnet_sysdirs \"${_ipcnet_sysdirs}\")" COMPONENT development)
install(CODE [[
  file(READ "${_ipcnet_pc_stage}" _ipcnet_pc)
  string(REPLACE "@IPCNET_PC_PREFIX@" "${CMAKE_INSTALL_PREFIX}" _ipcnet_pc "${_ipcnet_pc}")
  if(NOT IS_ABSOLUTE "${_ipcnet_libdir}")
    set(_ipcnet_libdir "${CMAKE_INSTALL_PREFIX}/${_ipcnet_libdir}")
  endif()
  get_filename_component(_ipcnet_libdir "${_ipcnet_libdir}" ABSOLUTE)
  set(_ipcnet_rpath " -Wl,-rpath,\${libdir}")
  foreach(_d IN LISTS _ipcnet_sysdirs)
    get_filename_component(_d "${_d}" ABSOLUTE)
    if(_d STREQUAL _ipcnet_libdir)
      set(_ipcnet_rpath "")
    endif()
  endforeach()
  string(REPLACE "@IPCNET_PC_RPATH@" "${_ipcnet_rpath}" _ipcnet_pc "${_ipcnet_pc}")
  file(WRITE "${_ipcnet_pc_out}" "${_ipcnet_pc}")
]] COMPONENT development)
install(FILES ${PROJECT_BINARY_DIR}/ipcnet.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)

# Installed programs find the installed library relative to themselves,
# unless it goes to a directory the linker searches anyway (/usr/lib/...).
# This applies to targets created after this file is included.
list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES "${CMAKE_INSTALL_FULL_LIBDIR}" _ipcnet_sys_libdir)
if(NOT DEFINED CMAKE_INSTALL_RPATH AND _ipcnet_sys_libdir EQUAL -1)
  file(RELATIVE_PATH _ipcnet_bin_to_lib
       ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
  set(CMAKE_INSTALL_RPATH "$ORIGIN/${_ipcnet_bin_to_lib}")
endif()
