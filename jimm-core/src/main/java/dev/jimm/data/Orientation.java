package dev.jimm.data;

/** EXIF orientation: reading the tag from a JPEG's APP1 segment and applying it to pixels. */
final class Orientation {
    private Orientation() {}

    /** The EXIF orientation (1..8) of a JPEG, or 1 when absent or unreadable. */
    static int exifOrientation(byte[] b) {
        int i = 2;
        if (b.length < 4 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xFF) != 0xD8) {
            return 1;
        }
        while (i + 4 <= b.length) {
            if ((b[i] & 0xFF) != 0xFF) {
                return 1;
            }
            int marker = b[i + 1] & 0xFF;
            if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 || marker == 0xFF) {
                i += marker == 0xFF ? 1 : 2;
                continue;
            }
            if (marker == 0xDA || marker == 0xD9) {
                return 1; // image data starts: no EXIF before it
            }
            int len = ((b[i + 2] & 0xFF) << 8) | (b[i + 3] & 0xFF);
            int start = i + 4;
            if (marker == 0xE1
                    && len >= 8
                    && start + 6 <= b.length
                    && b[start] == 'E'
                    && b[start + 1] == 'x'
                    && b[start + 2] == 'i'
                    && b[start + 3] == 'f') {
                int o = tiffOrientation(b, start + 6, Math.min(b.length, i + 2 + len));
                if (o != 0) {
                    return o;
                }
            }
            i += 2 + len;
        }
        return 1;
    }

    private static int tiffOrientation(byte[] b, int t, int end) {
        if (t + 8 > end) {
            return 0;
        }
        boolean le = b[t] == 'I' && b[t + 1] == 'I';
        long ifd = u32(b, t + 4, le);
        int p = (int) (t + ifd);
        if (ifd < 8 || p + 2 > end) {
            return 0;
        }
        int n = u16(b, p, le);
        for (int k = 0; k < n; k++) {
            int e = p + 2 + 12 * k;
            if (e + 12 > end) {
                return 0;
            }
            if (u16(b, e, le) == 0x0112) {
                int v = u16(b, e + 8, le);
                return v >= 1 && v <= 8 ? v : 0;
            }
        }
        return 0;
    }

    private static int u16(byte[] b, int i, boolean le) {
        return le ? (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 : (b[i] & 0xFF) << 8 | (b[i + 1] & 0xFF);
    }

    private static long u32(byte[] b, int i, boolean le) {
        long v = le
                ? (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16 | (b[i + 3] & 0xFFL) << 24
                : (b[i] & 0xFFL) << 24 | (b[i + 1] & 0xFFL) << 16 | (b[i + 2] & 0xFFL) << 8 | (b[i + 3] & 0xFFL);
        return v;
    }

    /** Applies orientation o (EXIF 1..8) like Pillow's ImageOps.exif_transpose. */
    static DecodedImage apply(DecodedImage img, int o) {
        if (o <= 1 || o > 8) {
            return img;
        }
        int w = img.width(), h = img.height(), c = img.channels();
        boolean swap = o >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        byte[] src = img.pixels();
        byte[] dst = new byte[src.length];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx, sy;
                switch (o) {
                    case 2 -> {
                        sx = w - 1 - x;
                        sy = y;
                    } // mirror horizontal
                    case 3 -> {
                        sx = w - 1 - x;
                        sy = h - 1 - y;
                    } // rotate 180
                    case 4 -> {
                        sx = x;
                        sy = h - 1 - y;
                    } // mirror vertical
                    case 5 -> {
                        sx = y;
                        sy = x;
                    } // transpose
                    case 6 -> {
                        sx = y;
                        sy = h - 1 - x;
                    } // rotate 90 CW to display
                    case 7 -> {
                        sx = w - 1 - y;
                        sy = h - 1 - x;
                    } // transverse
                    default -> {
                        sx = w - 1 - y;
                        sy = x;
                    } // 8: rotate 90 CCW to display
                }
                System.arraycopy(src, (sy * w + sx) * c, dst, (y * ow + x) * c, c);
            }
        }
        return img.with(ow, oh, c, dst);
    }
}
