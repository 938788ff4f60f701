/*
 * hs_sha256: the SHA-256 of a file (see hs_sha256.h).
 */
#include "hs_sha256.h"

#include <errno.h>
#include <gcrypt.h>
#include <stdio.h>
#include <string.h>

/* libgcrypt started for hashing only: no secure memory, no entropy gathering; idempotent.  0, or -1. */
static int start(void)
{
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        if (!gcry_check_version(NULL))
            return -1;
        gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
    return 0;
}

static void to_hex(const unsigned char *d, char hex[HS_SHA256_HEX])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int hs_sha256_buf(const void *data, size_t n, char hex[HS_SHA256_HEX], hs_error *err)
{
    if (start() != 0)
        return hs_error_set(err, HS_EIO, "libgcrypt could not start");
    unsigned char d[32];
    gcry_md_hash_buffer(GCRY_MD_SHA256, d, data, n);
    to_hex(d, hex);
    return HS_OK;
}

int hs_sha256_file(const char *path, char hex[HS_SHA256_HEX], hs_error *err)
{
    if (start() != 0)
        return hs_error_set(err, HS_EIO, "libgcrypt could not start");
    FILE *f = fopen(path, "rb");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: %s", path, strerror(errno));
    gcry_md_hd_t h;
    if (gcry_md_open(&h, GCRY_MD_SHA256, 0) != 0) {
        fclose(f);
        return hs_error_set(err, HS_EIO, "%s: cannot start a SHA-256", path);
    }
    unsigned char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        gcry_md_write(h, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        gcry_md_close(h);
        return hs_error_set(err, HS_EIO, "%s: read error", path);
    }
    to_hex(gcry_md_read(h, GCRY_MD_SHA256), hex);
    gcry_md_close(h);
    return HS_OK;
}
