/*
 * stain_vectors: the stain vectors hetsurv measures on each slide (the same
 * estimate `hetsurv score` uses), one line per slide:
 *   SLIDE SOURCE hR hG hB dR dG dB
 * SOURCE is estimated, estimated-h (DAB left at the default) or default.
 * Usage: stain_vectors SLIDE...
 */
#include <stdio.h>

#include "scoring/score.h"

int main(int argc, char **argv)
{
    static const char *const source[] = {"default", "given", "estimated", "estimated-h"};
    int status = 0;
    for (int i = 1; i < argc; i++) {
        hs_score_params p;
        hs_score_params_default(&p);
        p.threads = 2;
        hs_score_result r;
        hs_error err;
        if (hs_score_slide(argv[i], &p, NULL, &r, &err) != HS_OK) {
            fprintf(stderr, "stain_vectors: %s\n", err.msg);
            status = 1;
            continue;
        }
        printf("%s %s %.6f %.6f %.6f %.6f %.6f %.6f\n", argv[i], source[r.stain_source], r.stain_h[0], r.stain_h[1],
               r.stain_h[2], r.stain_dab[0], r.stain_dab[1], r.stain_dab[2]);
        hs_score_result_clear(&r);
    }
    return status;
}
