/*
 * version: the versions of the MPI and HDF5 libraries hetsurv was built
 * against and runs with.  Lives in mpi/ because only mpi/ may include mpi.h
 * and hdf5.h.  Neither call needs MPI to be initialised.
 */
#ifndef HS_MPI_VERSION_H
#define HS_MPI_VERSION_H

#include <stddef.h>

/* Writes "Open MPI vX.Y.Z" (the MPI library's own version line, trimmed) into buf. */
void hs_version_mpi(char *buf, size_t size);

/* Writes "X.Y.Z" of the HDF5 library hetsurv was compiled against into buf. */
void hs_version_hdf5(char *buf, size_t size);

#endif /* HS_MPI_VERSION_H */
