package dev.jimm;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Calls a {@code bool} setter of libtorch's {@code at::globalContext()} (PyTorch's {@code torch.set_flush_denormal},
 * {@code torch.backends.nnpack.set_flags}, ...), which DJL has no binding for, through its exported C++ symbol.
 */
final class LibtorchContext {
    private LibtorchContext() {}

    /**
     * Calls {@code at::globalContext().<setter>(value)}, the setter named by its mangled symbol; the {@code bool} it
     * returns (0 for a {@code void} setter), or empty when libtorch or the symbol is not there.
     */
    static OptionalInt set(String mangledSetter, boolean value) {
        try {
            Engine.getEngine("PyTorch");
            Path lib = Path.of(LibUtils.getLibtorchPath());
            if (Files.isDirectory(lib)) {
                lib = lib.resolve("libtorch_cpu.so");
            }
            if (!Files.isRegularFile(lib)) {
                return OptionalInt.empty();
            }
            NativeLibrary torch = NativeLibrary.getInstance(lib.toString());
            Pointer ctx = torch.getFunction("_ZN2at13globalContextEv").invokePointer(new Object[0]);
            int result = torch.getFunction(mangledSetter).invokeInt(new Object[] {ctx, (byte) (value ? 1 : 0)});
            return OptionalInt.of(result & 0xFF);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return OptionalInt.empty();
        }
    }
}
