"""Compares hetsurv's colour deconvolution with scikit-image's rgb2hed.

Usage: rgb2hed.py IMAGE.png H.f32 DAB.f32 WIDTH HEIGHT
hetsurv ran with skimage's own stain matrix (H, DAB, and eosin as the third
vector).  skimage's channels are -ln(max(I/255, 1e-6)) / ln(1e-6) projected on
the un-normalised inverse and clipped at 0; hetsurv's are -log10(max(I, 1)/255)
on the normalised inverse.  Both are linear in the per-channel OD, so after the
same clipping at 0 they should correlate per pixel at >= 0.999.  The one
difference that is not a scaling is an intensity of 0, which has no finite
OD: skimage takes it as 1e-6 of full scale, hetsurv (like QuPath) as 1/255.
Pixels with a 0 channel are therefore left out of the comparison (their
number is printed, as is the correlation over all pixels).
Prints one line per channel and exits 1 when a correlation is below 0.999.
"""
import sys

import numpy as np
from skimage import io
from skimage.color import rgb2hed

img, hpath, dpath, w, h = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rgb = io.imread(img)[..., :3]
hed = rgb2hed(rgb)
ours = {"hematoxylin": np.fromfile(hpath, dtype="<f4").reshape(h, w),
        "DAB": np.fromfile(dpath, dtype="<f4").reshape(h, w)}
ref = {"hematoxylin": hed[..., 0], "DAB": hed[..., 2]}
keep = rgb.min(axis=2).ravel() > 0
ok = True
for name in ("hematoxylin", "DAB"):
    a = np.maximum(ours[name].astype(np.float64), 0).ravel()
    b = ref[name].ravel()
    r = np.corrcoef(a[keep], b[keep])[0, 1]
    r_all = np.corrcoef(a, b)[0, 1]
    scale = np.dot(a[keep], b[keep]) / np.dot(b[keep], b[keep])
    print(f"{name}: per-pixel correlation {r:.9f} over {keep.sum()} pixels "
          f"({(~keep).sum()} with a 0 channel left out; {r_all:.6f} with them), hetsurv/skimage scale {scale:.4f}")
    ok &= bool(r >= 0.999)
sys.exit(0 if ok else 1)
