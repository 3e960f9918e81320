# fsck_link.cmake - install step: sbin/fsck.jrx, a relative symlink to
# bin/jrx, which runs the fsck front end when called by that name (as the
# build tree's fsck.jrx -> jrx does).  fsck(8) runs fsck.<type> from /sbin,
# /usr/sbin or PATH.  The link is made for the prefix given at install time
# (`cmake --install --prefix`, CPack's /usr) and under DESTDIR, so it holds
# wherever the tree is unpacked.  JRX_BINDIR and JRX_SBINDIR come from
# GNUInstallDirs (install.cmake).
foreach(d JRX_BINDIR JRX_SBINDIR)
  if(NOT IS_ABSOLUTE "${${d}}")
    set(${d} "${CMAKE_INSTALL_PREFIX}/${${d}}")
  endif()
endforeach()
file(RELATIVE_PATH target "${JRX_SBINDIR}" "${JRX_BINDIR}/jrx")
set(link "$ENV{DESTDIR}${JRX_SBINDIR}/fsck.jrx")
message(STATUS "Installing: ${link} -> ${target}")
file(MAKE_DIRECTORY "$ENV{DESTDIR}${JRX_SBINDIR}")
file(CREATE_LINK "${target}" "${link}" SYMBOLIC)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${link}")
