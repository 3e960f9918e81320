# install.cmake - what `cmake --install` and `cpack -G DEB` put where
# (GNUInstallDirs): jrx in bin, fsck.jrx in sbin (a relative symlink to
# it, cmake/fsck_link.cmake), jrx(8) and fsck.jrx(8) in man8.  libjrx_core
# and include/jrx are not installed: README.md, "Install", says why.
include(GNUInstallDirs)
install(TARGETS jrx RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(CODE "set(JRX_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(JRX_SBINDIR \"${CMAKE_INSTALL_SBINDIR}\")")
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/fsck_link.cmake)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/jrx.8
              ${PROJECT_SOURCE_DIR}/docs/man/fsck.jrx.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# `cpack -G DEB` in the build directory: jrx_VERSION_ARCH.deb for /usr,
# stripped, its Depends computed by dpkg-shlibdeps from the binary
# (liburing2, libaio1, libhwloc15, libmimalloc2.0, libisal2, libxxhash0,
# libsqlite3-0, libblkid1, libc6 on Debian 12).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME jrx)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT
  "Seed f2d319b7 maintainers <maintainers@users.noreply.r-seed-f2d319b7.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "parallel crash recovery for a journaled copy-on-write B+tree store")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"jrx recovers a journaled copy-on-write B+tree store (bcachefs-style)
after a crash: a parallel journal read, sort and replay, a sequential
reference recovery as the correctness oracle, fsck.jrx for fsck(8), and
workload generators and inspection tools.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
