/*
 * h5out: results.h5, the cohort run's HDF5 file.
 *
 *   /slides               compound, one row per manifest row (manifest order):
 *                         patient_id, slide, then the score columns
 *                         (scoring/scorerow.h): text as fixed-length NUL-terminated strings,
 *                         numbers as float64 with NaN for NA
 *   /maps/<patient_id>    uint32 [ny][nx][4]: the tumour cells of class
 *                         0, 1+, 2+, 3+ on each tile (attributes of /maps:
 *                         tile_um, layout); a name is the patient id with
 *                         '%', '/' and a leading '.' written as %25, %2F, %2E
 *   /survival/<endpoint>/<table>, /calibration, attributes: added after the
 *                         parallel part by one process (hs_h5_open ...)
 *
 * The parallel part is written by every rank through MPI-IO with
 * collective transfers: each rank writes its own rows of /slides (rows
 * rank, rank + size, ...) and its own maps; every rank takes part in every
 * collective call (creating each map, each write), selecting nothing where
 * it has nothing to write.
 */
#ifndef HS_H5OUT_H
#define HS_H5OUT_H

#include <mpi.h>
#include <stddef.h>

#include "mpi/cohort.h"
#include "scoring/scorerow.h"
#include "util/hs_error.h"

/*
 * Creates path (replacing it) and writes /slides and /maps; collective.
 * own: this rank's nown rows (patients rank, rank + size, ...); dims: every
 * patient's map size (hs_cohort_classify); the maps are read from dir's
 * checkpoint (hs_cohort_map_path).  Returns the same status on every rank.
 */
int hs_h5_write_cohort(const char *path, MPI_Comm comm, const hs_cohort *c, const hs_score_row *own, size_t nown,
                       const unsigned long long *dims, const char *dir, double tile_um, hs_error *err) HS_RESULT_USED;

/* The serial part, on one process. */
typedef struct hs_h5file hs_h5file;

/* Opens an existing file for writing.  HS_EIO (named). */
int hs_h5_open(hs_h5file **out, const char *path, hs_error *err) HS_RESULT_USED;

/*
 * Adds the CSV table at csv_path as the compound dataset `name` (its groups
 * created): a column whose values are all numbers or missing becomes
 * float64 (NaN for NA), any other, and those named in text_cols (NULL-
 * terminated, may be NULL), a fixed-length string.  HS_EIO, HS_EDATA.
 */
int hs_h5_add_csv(hs_h5file *f, const char *name, const char *csv_path, const char *const *text_cols,
                  hs_error *err) HS_RESULT_USED;

/* Sets the string attribute `attr` of the object at `object` ("/" for the file; groups created). */
int hs_h5_set_attr(hs_h5file *f, const char *object, const char *attr, const char *value,
                   hs_error *err) HS_RESULT_USED;

/* Closes the file (every object flushed).  HS_EIO. */
int hs_h5_close(hs_h5file *f, hs_error *err) HS_RESULT_USED;

/* The dataset name of a patient id under /maps (escaped as above) into buf. */
void hs_h5_map_name(const char *patient, char *buf, size_t size);

#endif /* HS_H5OUT_H */
