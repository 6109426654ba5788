package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Class subsets for transfer: which samples, relabelled how, drawn how. */
class ClassSubsetTest {
    /** 10 classes; sample i has class (i * 7) % 10 and a 1x1 image whose pixel is i, so picks can be traced. */
    static ImageDataset tenClasses(int n) {
        return new ImageDataset() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public int label(int i) {
                return (i * 7) % 10;
            }

            @Override
            public List<String> classes() {
                return List.of("c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9");
            }

            @Override
            public DecodedImage image(int i) {
                return new DecodedImage(1, 1, 1, new byte[] {(byte) i}, "raw");
            }
        };
    }

    @Test
    void allSamplesOfTheKeptClassesRelabelledInTheGivenOrder() {
        ImageDataset base = tenClasses(200);
        ClassSubset s = ClassSubset.of(base, 5, 6, 7, 8, 9);
        assertEquals(List.of("c5", "c6", "c7", "c8", "c9"), s.classes());
        assertEquals(100, s.size());
        int[] idx = s.indices();
        for (int i = 0; i < s.size(); i++) {
            assertEquals(base.label(idx[i]) - 5, s.label(i), "sample " + i);
            assertEquals(idx[i], s.image(i).pixels()[0] & 0xFF, "the image is the base sample's");
            if (i > 0) {
                assertTrue(idx[i] > idx[i - 1], "base order kept");
            }
        }
        assertArrayEquals(new int[] {20, 20, 20, 20, 20}, s.countsPerClass());
        // the order the classes are given is the label order
        ClassSubset r = ClassSubset.of(base, 9, 2);
        assertEquals(List.of("c9", "c2"), r.classes());
        for (int i = 0; i < r.size(); i++) {
            assertEquals(base.label(r.indices()[i]) == 9 ? 0 : 1, r.label(i));
        }
    }

    @Test
    void perClassDrawsAreSeededAndExact() {
        ImageDataset base = tenClasses(1000);
        ClassSubset a = ClassSubset.of(base, 7, 42L, 5, 6, 7, 8, 9);
        ClassSubset b = ClassSubset.of(base, 7, 42L, 5, 6, 7, 8, 9);
        ClassSubset c = ClassSubset.of(base, 7, 43L, 5, 6, 7, 8, 9);
        assertArrayEquals(new int[] {7, 7, 7, 7, 7}, a.countsPerClass());
        assertArrayEquals(a.indices(), b.indices(), "same seed, same picks");
        assertFalse(Arrays.equals(a.indices(), c.indices()), "another seed, other picks");
        assertEquals(35, Arrays.stream(a.indices()).distinct().count(), "without replacement");
        // one class's picks do not depend on which other classes are asked for
        ClassSubset only5 = ClassSubset.of(base, 7, 42L, 5);
        int[] fives = Arrays.stream(a.indices()).filter(i -> base.label(i) == 5).toArray();
        assertArrayEquals(fives, only5.indices());
        // not just the first members of each class
        int[] firstFives = IntStream.range(0, 1000)
                .filter(i -> base.label(i) == 5)
                .limit(7)
                .toArray();
        assertFalse(Arrays.equals(firstFives, fives));
    }

    @Test
    void badRequestsNameTheClass() {
        ImageDataset base = tenClasses(50);
        IllegalArgumentException few =
                assertThrows(IllegalArgumentException.class, () -> ClassSubset.of(base, 6, 1L, 3));
        assertTrue(few.getMessage().contains("class 3 (c3) has 5 samples, fewer than the 6"), few.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClassSubset.of(base, 10));
        assertThrows(IllegalArgumentException.class, () -> ClassSubset.of(base, 1, 1));
    }
}
