package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.TestFixtures;
import dev.jimm.cli.Main;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `jimm parity` with fixtures whose meta.weights names a checkpoint beside them. */
class ParityWeightsTest {
    /** A copy of a fixture with meta.weights set (the header rewritten with its new length). */
    static Path withWeights(Path src, Path dst, String weights) throws Exception {
        byte[] all = Files.readAllBytes(src);
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        JsonObject header = JsonParser.parseString(new String(all, 8, n, StandardCharsets.UTF_8))
                .getAsJsonObject();
        JsonObject md = header.getAsJsonObject("__metadata__");
        JsonObject meta = JsonParser.parseString(md.get("meta").getAsString()).getAsJsonObject();
        meta.addProperty("weights", weights);
        md.addProperty("meta", meta.toString());
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + all.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(h);
        while (out.position() < 8 + padded) {
            out.put((byte) ' ');
        }
        out.put(all, 8 + n, all.length - 8 - n);
        Files.write(dst, out.array());
        return dst;
    }

    static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(status), out.toString(), err.toString()};
    }

    @Test
    void fixturesWithWeightsBesideThemLoadThem(@TempDir Path dir) throws Exception {
        // the reference init written as a checkpoint: the fixture's outputs must come out of it
        try (ImageModel m =
                Models.createModel("resnet18", ModelOptions.builder().seed(5).build())) {
            ReferenceInit.apply(m);
            SafetensorsWriter.write(dir.resolve("resnet18_ref.safetensors"), m.stateDict(), Map.of("format", "pt"));
        }
        Path fx = withWeights(
                TestFixtures.parity("timm__resnet18"),
                dir.resolve("timm__resnet18.safetensors"),
                "resnet18_ref.safetensors");
        assertEquals(
                dir.resolve("resnet18_ref.safetensors"), ParityFixture.read(fx).weights());
        ParityRunner.Result r = new ParityRunner().run(fx);
        assertTrue(r.passed(), r.message());
        String[] cli = run("parity", dir.toString());
        assertEquals("0", cli[0], cli[1] + cli[2]);
        assertTrue(
                cli[1].trim().endsWith("1 passed, 0 failed"), "the weights file is not taken for a fixture: " + cli[1]);

        // other weights give other outputs: the runner really uses the file
        try (ImageModel m =
                Models.createModel("resnet18", ModelOptions.builder().seed(6).build())) {
            SafetensorsWriter.write(dir.resolve("resnet18_ref.safetensors"), m.stateDict(), Map.of("format", "pt"));
        }
        assertFalse(new ParityRunner().run(fx).passed());
        Files.delete(dir.resolve("resnet18_ref.safetensors"));
        ParityRunner.Result missing = new ParityRunner().run(fx);
        assertFalse(missing.passed());
        assertTrue(
                missing.message().contains("resnet18_ref.safetensors")
                        && missing.message().contains("no such file"),
                missing.message());
    }
}
