package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.jimm.TestFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code jimm inspect-checkpoint} on the real checkpoint files. */
class InspectCheckpointCommandTest {
    static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(status), out.toString(), err.toString()};
    }

    static Path w(String name) {
        return TestFixtures.root().resolve("weights").resolve(name);
    }

    @Test
    void trainingCheckpoint() {
        String[] r = run("inspect-checkpoint", w("squeezenet1_1.checkpoint.pth").toString());
        assertEquals("0", r[0], r[2]);
        String out = r[1];
        assertTrue(out.contains("format: torch.save zip"), out);
        assertTrue(out.contains("state dict: under 'state_dict'"), out);
        assertTrue(out.contains("prefix removed: module."), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+features\\.0\\.weight\\s+\\[64, 3, 3, 3\\]\\s+F32")), out);
        assertTrue(out.contains("52 tensors, 1,235,496 parameters"), out);
        assertTrue(
                out.contains("other entries:")
                        && out.contains("  epoch: int 5")
                        && out.contains("  best_acc1: tensor F32 [] = 58.1")
                        && out.contains("  optimizer: dict of 2 (state, param_groups), 52 tensors"),
                out);
    }

    @Test
    void legacyShardedAndBf16() {
        String[] legacy =
                run("inspect-checkpoint", w("squeezenet1_1.legacy.pth").toString());
        assertEquals("0", legacy[0], legacy[2]);
        assertTrue(
                legacy[1].contains("format: torch.save legacy (pre-1.6)") && !legacy[1].contains("other entries"),
                legacy[1]);
        String[] sharded =
                run("inspect-checkpoint", w("mobilenetv3_small_050.sharded").toString());
        assertEquals("0", sharded[0], sharded[2]);
        assertTrue(
                sharded[1].contains("format: safetensors (sharded, index)") && sharded[1].contains("244 tensors"),
                sharded[1]);
        String[] bf16 = run(
                "inspect-checkpoint",
                w("mobilenetv3_small_050.bf16.safetensors").toString());
        assertTrue(
                bf16[1].lines().anyMatch(l -> l.matches("\\s+conv_stem\\.weight\\s+\\[16, 3, 3, 3\\]\\s+BF16")),
                bf16[1]);
        assertTrue(bf16[1].lines().anyMatch(l -> l.matches("\\s+bn1\\.num_batches_tracked\\s+\\[\\]\\s+I64")), bf16[1]);
    }
}
