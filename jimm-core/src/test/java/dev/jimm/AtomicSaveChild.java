package dev.jimm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.hub.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Child JVM of {@link KillDuringSaveTest}: saves version N, N+1, ... of a large checkpoint to the same file, forever,
 * printing "saved N" after each. Every element of version N equals N.
 */
public final class AtomicSaveChild {
    private AtomicSaveChild() {}

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        long elements = Long.parseLong(args[1]);
        int v = 0;
        if (Files.exists(file)) {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                v = Integer.parseInt(f.metadata().get("version")) + 1;
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            for (; ; v++) {
                try (NDManager s = m.newSubManager()) {
                    Map<String, NDArray> t = new LinkedHashMap<>();
                    for (int i = 0; i < 4; i++) {
                        t.put("layer" + i + ".weight", s.full(new Shape(elements / 4), (float) v));
                    }
                    t.put("step", s.create(new long[] {v}));
                    System.out.println("saving " + v);
                    System.out.flush();
                    SafetensorsWriter.write(file, t, Map.of("version", Integer.toString(v)));
                }
                System.out.println("saved " + v);
                System.out.flush();
            }
        }
    }
}
