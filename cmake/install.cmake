# install.cmake — what `cmake --install` puts where: the shared library (with its SONAME
# links), the public headers, the `hoclab` command, a pkg-config file for C programs, the
# man page and, when present, the Python module. Included from the top CMakeLists.txt.
include(GNUInstallDirs)

# libhoclab keeps the run path of the libraries it links from folders of their own
# (Debian's hdf5/serial, openblas-pthread), built that way from the start: the installed
# library then loads the same OpenBLAS as the one the tests ran, and `cmake --install`
# has no run path to rewrite (CMake 3.25 expects a trailing ':' that the linker drops,
# and fails).
set_target_properties(hoclab PROPERTIES BUILD_WITH_INSTALL_RPATH ON
  INSTALL_RPATH_USE_LINK_PATH ON)
# The installed CLI finds libhoclab.so through its RUNPATH when the prefix is not a
# system library directory (/usr/local/lib is searched anyway; a home prefix is not).
set_target_properties(hoclab_cli PROPERTIES
  INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")

install(TARGETS hoclab
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(TARGETS hoclab_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY include/hoclab DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")
install(FILES man/hoclab.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)

# pkg-config: the public headers include <gsl/gsl_rng.h> and nothing else outside the
# C library, so Cflags carry GSL's include folder. GSL is deliberately not a `Requires`:
# gsl.pc links GSL's reference CBLAS (-lgslcblas), whose cblas_* symbols would come
# before OpenBLAS's in the program's lookup order and silently replace them inside
# libhoclab. The libraries libhoclab itself needs are its own DT_NEEDED entries; the
# .private fields list them for tools that ask (`pkg-config --static`).
set(HOCLAB_PC_CFLAGS "")
if(NOT GSL_INCLUDE_DIR STREQUAL "/usr/include")
  set(HOCLAB_PC_CFLAGS "-I${GSL_INCLUDE_DIR}")
endif()
# A library file /dir/libNAME.so as -L/dir -lNAME (no -L for the system's own folder).
function(hoclab_pc_lib path out)
  get_filename_component(dir ${path} DIRECTORY)
  get_filename_component(name ${path} NAME_WE)
  string(REGEX REPLACE "^lib" "" name ${name})
  if(dir STREQUAL "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}" OR dir STREQUAL "/usr/lib")
    set(${out} "-l${name}" PARENT_SCOPE)
  else()
    set(${out} "-L${dir} -l${name}" PARENT_SCOPE)
  endif()
endfunction()
hoclab_pc_lib(${GSL_LIBRARY} pc_gsl)
list(GET HDF5_C_LIBRARIES 0 hdf5_main)
hoclab_pc_lib(${hdf5_main} pc_hdf5)
set(HOCLAB_PC_LIBS_PRIVATE "${pc_gsl} ${pc_hdf5} ${OpenMP_C_FLAGS} -lm")
# Written at install time, so that `cmake --install --prefix DIR` gets DIR as its prefix.
install(CODE "
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(HOCLAB_PC_CFLAGS \"${HOCLAB_PC_CFLAGS}\")
  set(HOCLAB_PC_LIBS_PRIVATE \"${HOCLAB_PC_LIBS_PRIVATE}\")
  configure_file(\"${CMAKE_CURRENT_LIST_DIR}/hoclab.pc.in\"
    \"${CMAKE_CURRENT_BINARY_DIR}/hoclab.pc\" @ONLY)" COMPONENT dev)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hoclab.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# The Python module (ctypes over libhoclab.so) goes where Debian's python3 looks for
# packages under the prefix.
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/python/hoclab)
  install(DIRECTORY python/hoclab DESTINATION lib/python3/dist-packages COMPONENT python
    PATTERN "__pycache__" EXCLUDE)
endif()
