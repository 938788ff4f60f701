/*
 * version: MPI and HDF5 version strings (see version.h).
 */
#include "version.h"

#include <stdio.h>
#include <string.h>

#include <hdf5.h>
#include <mpi.h>

void hs_version_mpi(char *buf, size_t size)
{
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (MPI_Get_library_version(lib, &len) != MPI_SUCCESS) {
        snprintf(buf, size, "unknown");
        return;
    }
    lib[strcspn(lib, ",\n")] = '\0'; /* "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4" */
    snprintf(buf, size, "%s", lib);
}

void hs_version_hdf5(char *buf, size_t size)
{
    snprintf(buf, size, "%d.%d.%d", H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);
}
