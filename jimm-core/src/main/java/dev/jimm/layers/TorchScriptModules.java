package dev.jimm.layers;

import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * One-method TorchScript modules compiled from source, for the libtorch operators DJL's JNI has no binding for (the
 * fused AdamW kernel, oneDNN's pre-packed convolutions). libtorch compiles TorchScript source when it loads a module,
 * so this writes the archive {@code torch.jit.save} would — the pickled module object, its code, no constants, format
 * version 3 — and loads it from memory.
 */
public final class TorchScriptModules {
    private TorchScriptModules() {}

    /**
     * Loads the module {@code className} whose source (the form {@code torch.jit.save} writes under {@code code/}, a
     * {@code class className(Module)} with a {@code forward}) is {@code source}.
     *
     * @throws IOException when libtorch cannot read the archive
     * @throws RuntimeException (libtorch's) when the source does not compile, e.g. an operator this libtorch lacks
     */
    public static PtSymbolBlock load(PtNDManager manager, String className, String source) throws IOException {
        return JniUtils.loadModule(manager, new ByteArrayInputStream(archive(className, source)), false, false);
    }

    /** The archive of a module {@code className} with no attributes but {@code training = True}. */
    static byte[] archive(String className, String source) {
        ByteArrayOutputStream pickle = new ByteArrayOutputStream();
        // protocol 2: GLOBAL __torch__.<className>, NEWOBJ with no arguments, BUILD {'training': True}
        pickle.writeBytes(new byte[] {(byte) 0x80, 2});
        pickle.writeBytes(("c__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII));
        pickle.writeBytes(new byte[] {')', (byte) 0x81, '}', 'X', 8, 0, 0, 0});
        pickle.writeBytes("training".getBytes(StandardCharsets.US_ASCII));
        pickle.writeBytes(new byte[] {(byte) 0x88, 's', 'b', '.'});
        String root = className.toLowerCase(Locale.ROOT);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            stored(zip, root + "/data.pkl", pickle.toByteArray());
            stored(zip, root + "/code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            stored(zip, root + "/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(zip, root + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    // uncompressed, as torch.jit.save writes its records
    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
