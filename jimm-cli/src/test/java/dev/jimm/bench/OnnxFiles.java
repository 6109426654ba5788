package dev.jimm.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Small ONNX files written field by field (onnx.proto's numbers), so that ONNX Runtime's side of the benchmark can be
 * tested without Python: a graph of a few nodes over float initializers, one input and one output whose first axis is
 * the symbolic batch.
 */
final class OnnxFiles {
    private OnnxFiles() {}

    /** One node: op type, inputs, output. */
    record Node(String op, List<String> inputs, String output) {}

    /** A float initializer. */
    record Init(String name, long[] dims, float[] values) {}

    /** Writes an opset-17 model; {@code inDims}/{@code outDims} leave out the batch axis, which is symbolic. */
    static Path write(
            Path file, String input, long[] inDims, String output, long[] outDims, List<Init> inits, List<Node> nodes)
            throws IOException {
        Proto graph = new Proto();
        int k = 0;
        for (Node n : nodes) {
            Proto node = new Proto();
            for (String in : n.inputs()) {
                node.string(1, in);
            }
            node.string(2, n.output()).string(3, "n" + k++).string(4, n.op());
            graph.message(1, node);
        }
        graph.string(2, "test");
        for (Init i : inits) {
            Proto t = new Proto();
            for (long d : i.dims()) {
                t.varint(1, d);
            }
            ByteBuffer raw = ByteBuffer.allocate(i.values().length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : i.values()) {
                raw.putFloat(v);
            }
            t.varint(2, 1).string(8, i.name()).bytes(9, raw.array());
            graph.message(5, t);
        }
        graph.message(11, valueInfo(input, inDims));
        graph.message(12, valueInfo(output, outDims));
        Proto model = new Proto()
                .varint(1, 8)
                .string(2, "jimm-test")
                .message(7, graph)
                .message(8, new Proto().string(1, "").varint(2, 17));
        return Files.write(file, model.bytes());
    }

    /**
     * A stand-in for an exported 3-channel 16x16 classifier: each channel's mean pixel times the 3x3 identity, so its 3
     * logits have a classifier's shape but are not any network's.
     */
    static Path meanPixelLogits(Path file) throws IOException {
        return write(
                file,
                "input",
                new long[] {3, 16, 16},
                "logits",
                new long[] {3},
                List.of(new Init("W", new long[] {3, 3}, new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1})),
                List.of(
                        new Node("GlobalAveragePool", List.of("input"), "pooled"),
                        new Node("Flatten", List.of("pooled"), "flat"),
                        new Node("MatMul", List.of("flat", "W"), "logits")));
    }

    private static Proto valueInfo(String name, long[] dims) {
        Proto shape = new Proto().message(1, new Proto().string(2, "batch"));
        for (long d : dims) {
            shape.message(1, new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, 1).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    /** A protobuf message being written. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long v) {
            raw((long) field << 3);
            raw(v);
            return this;
        }

        Proto bytes(int field, byte[] b) {
            raw(((long) field << 3) | 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.bytes());
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
