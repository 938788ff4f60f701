/* tilecsv: a tile map as a .tiles.csv table (see tilecsv.h). */
#include "scoring/tilecsv.h"

int hs_tilecsv_write(FILE *f, const hs_tilemap *map, const hs_her2_params *p)
{
    fprintf(f, "ix,iy,x_um,y_um,n_cells,n0,n1,n2,n3,hscore,ihc_score,tumour\n");
    for (size_t iy = 0; iy < map->ny; iy++)
        for (size_t ix = 0; ix < map->nx; ix++) {
            const unsigned long *c = map->count + (iy * map->nx + ix) * HS_NCLASS;
            unsigned long n = c[0] + c[1] + c[2] + c[3];
            if (!n)
                continue;
            double fr[HS_NCLASS];
            for (int k = 0; k < HS_NCLASS; k++)
                fr[k] = (double)c[k] / (double)n;
            fprintf(f, "%zu,%zu,%.17g,%.17g,%lu,%lu,%lu,%lu,%lu,%.17g,%s,%d\n", ix, iy, (double)ix * map->tile_um,
                    (double)iy * map->tile_um, n, c[0], c[1], c[2], c[3], hs_her2_hscore(fr),
                    hs_her2_call_name(hs_her2_call(p, fr, n)), n >= p->tile_min_cells);
        }
    return ferror(f) ? -1 : 0;
}
