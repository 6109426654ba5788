// Makes samples/fashion-mnist: a class-balanced subset of the real Fashion-MNIST.
// Usage (after `mvn -o compile`):
//   java -cp jimm-core/target/classes scripts/MakeFashionMnistSample.java SRC_DIR samples/fashion-mnist 200 50
// takes the FIRST n images of each class, in file order, from train and t10k.
import dev.jimm.data.IdxFile;
import java.nio.file.Path;

public class MakeFashionMnistSample {
    public static void main(String[] args) throws Exception {
        Path src = Path.of(args[0]), dst = Path.of(args[1]);
        subset(src, dst, "train", Integer.parseInt(args[2]));
        subset(src, dst, "t10k", Integer.parseInt(args[3]));
    }

    static void subset(Path src, Path dst, String prefix, int perClass) throws Exception {
        IdxFile img = IdxFile.read(src.resolve(prefix + "-images-idx3-ubyte.gz"));
        IdxFile lab = IdxFile.read(src.resolve(prefix + "-labels-idx1-ubyte.gz"));
        int item = img.itemSize();
        int[] taken = new int[10];
        int total = perClass * 10;
        byte[] outImg = new byte[total * item];
        byte[] outLab = new byte[total];
        int k = 0;
        for (int i = 0; i < lab.count() && k < total; i++) {
            int c = lab.data()[i];
            if (taken[c] < perClass) {
                taken[c]++;
                System.arraycopy(img.data(), i * item, outImg, k * item, item);
                outLab[k++] = (byte) c;
            }
        }
        if (k != total) {
            throw new IllegalStateException("only " + k + " images found");
        }
        int[] dims = img.dims().clone();
        dims[0] = total;
        new IdxFile(dims, outImg).write(dst.resolve(prefix + "-images-idx3-ubyte.gz"));
        new IdxFile(new int[] {total}, outLab).write(dst.resolve(prefix + "-labels-idx1-ubyte.gz"));
    }
}
